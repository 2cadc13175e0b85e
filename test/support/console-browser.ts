import { mkdirSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { expect } from 'vitest';

import { startTestApp, type TestApp } from './app.js';
import { launchChromium } from './chromium.js';
import { buildFrontend } from './frontend-build.js';
import { type OwnDatabase, ownDatabase } from './own-database.js';
import { CHROMIUM, chromiumAvailable, refuseOtherHosts, saveShot } from './portal-browser.js';

export { chromiumAvailable };

/**
 * The admin console in Chromium (Debian's chromium, driven by playwright-core), served by the app
 * itself at /admin from a fresh build: its build, pages that collect errors and the requests they
 * send, sign-in and screenshots. Only 127.0.0.1 is reachable from a page. Said once in each spec
 * file that imports this module: its describe block is skipped without Chromium.
 */
if (!chromiumAvailable) {
  console.warn(`console browser test skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);
}

export const CONSOLE_SHOTS =
  process.env.CONSOLE_SHOTS_DIR ?? join(import.meta.dirname, '..', '..', 'test-results', 'console');

/**
 * expect.poll as patient as Playwright's own waits (setDefaultTimeout in openConsole), not vitest's 1 s: a
 * page loaded cold while the machine's two cores are busy takes seconds to show its first figures.
 */
export const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 15_000 });

/**
 * The app serving a fresh build of console/ at /admin (this run's, see buildFrontend: a test never
 * sees a stale bundle) on a free port of 127.0.0.1, the only host a page may reach, and a Chromium to read
 * it with. Makes the screenshot folder too.
 */
export class ServedConsole {
  private constructor(
    readonly t: TestApp,
    readonly baseUrl: string,
    readonly browser: Browser,
    private readonly dir: string,
  ) {}

  /** The database of its own that close() drops (onOwnDatabase). */
  private own?: OwnDatabase;

  /** `env` is the test app's (CONSOLE_DIR set to the build); `prefix` names the build's temporary folder. */
  static async start(env: Record<string, string> = {}, prefix = 'console-'): Promise<ServedConsole> {
    const dir = await buildFrontend('console', prefix);
    let t: TestApp | undefined;
    try {
      mkdirSync(CONSOLE_SHOTS, { recursive: true });
      t = await startTestApp({ ...env, CONSOLE_DIR: dir });
      const baseUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
      const browser = await launchChromium();
      return new ServedConsole(t, baseUrl, browser, dir);
    } catch (error) {
      await t?.close();
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * start() on a migrated database of the spec file's own (ownDatabase(`name`): a spec whose figures
   * are the whole database's, or whose workers or clock must not meet the other specs'), dropped by
   * close(). The app connects as the service's role, as on the run's database; `t.db` as the owner.
   */
  static async onOwnDatabase(name: string, env: Record<string, string> = {}, prefix?: string): Promise<ServedConsole> {
    const own = await ownDatabase(name);
    try {
      const served = await ServedConsole.start(
        { ...env, DATABASE_URL: own.serviceUrl, DATABASE_MIGRATION_URL: own.url },
        prefix,
      );
      served.own = own;
      return served;
    } catch (error) {
      await own.drop();
      throw error;
    }
  }

  /** A page of its own (see openConsole). */
  open(): Promise<ConsolePage> {
    return openConsole(this.browser);
  }

  /** Signs in with an access token; resolves once the navigation shows. */
  async signIn(page: Page, accessToken: string): Promise<void> {
    await page.goto(`${this.baseUrl}/admin/`);
    await page.getByLabel('Access token').fill(accessToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation').getByRole('link', { name: 'Overview' }).waitFor();
  }

  async close(): Promise<void> {
    await this.browser.close();
    await this.t.close();
    rmSync(this.dir, { recursive: true, force: true });
    await this.own?.drop();
  }
}

/** A request the page sent to the API: what it changed or read, and the key it carried. */
export interface Sent {
  method: string;
  path: string;
  key: string | undefined;
}

export interface ConsolePage {
  page: Page;
  context: BrowserContext;
  /** Console errors and warnings, page errors and requests to hosts other than 127.0.0.1. */
  errors: string[];
  /** Every request the page sent to /api/, in order. */
  sent: Sent[];
}

/**
 * A page in a context of its own, 1400×900. Downloads are accepted (Playwright's default, said
 * aloud): the CSV exports are read from them.
 */
async function openConsole(browser: Browser): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  const sent: Sent[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (!url.pathname.startsWith('/api/')) return;
    sent.push({ method: request.method(), path: url.pathname, key: request.headers()['idempotency-key'] });
  });
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  await refuseOtherHosts(page, errors);
  return { page, context, errors, sent };
}

/** The Idempotency-Keys of the requests sent to a path with a method, in order. */
export function keysSent(sent: Sent[], method: string, path: string): Array<string | undefined> {
  return sent.filter((s) => s.method === method && s.path === path).map((s) => s.key);
}

/** Once no transition or animation runs (a dialog fades and scales in). */
export async function settled(page: Page): Promise<void> {
  await poll(() => page.evaluate(() => document.getAnimations().length)).toBe(0);
}

/**
 * A screenshot `<name>.png` in CONSOLE_SHOTS: the full page; or the viewport (`fullPage: false`), or the
 * viewport with `subject` scrolled into view, for a screen whose page lists what every spec file made in
 * the shared database (the Pricing page lists every price rule in force): its full height grows with
 * the run, and so does the time Chromium takes to draw it (600 rules: a page 50,000 px tall, seconds
 * of a core a shot), while the viewport shows the screen's subject at the same cost in any run.
 */
export async function shot(
  page: Page,
  name: string,
  options: { fullPage?: boolean; subject?: Locator } = {},
): Promise<void> {
  // A dialog fades in: shoot once it is settled, not halfway through.
  await settled(page);
  if (options.subject) await options.subject.scrollIntoViewIfNeeded();
  // From the top: a full-page shot of a scrolled page draws the fixed header where it was scrolled to.
  else if (options.fullPage !== false) await page.evaluate(() => window.scrollTo(0, 0));
  await saveShot(page, join(CONSOLE_SHOTS, `${name}.png`), {
    fullPage: options.subject ? false : options.fullPage,
  });
}
