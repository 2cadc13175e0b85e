import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';

import type { TestApp } from './app.js';
import { CHROMIUM, chromiumAvailable } from './portal-browser.js';

export { chromiumAvailable };

/**
 * The admin console in Chromium (Debian's chromium, driven by playwright-core), served by the app
 * itself at /admin from a fresh build: its build, pages that collect errors and the requests they
 * send, sign-in and screenshots. Only 127.0.0.1 is reachable from a page.
 */

// Once in each spec file that imports this module: its describe block is skipped without Chromium.
if (!chromiumAvailable) {
  console.warn(`console browser test skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);
}

export const CONSOLE_SHOTS =
  process.env.CONSOLE_SHOTS_DIR ?? join(import.meta.dirname, '..', '..', 'test-results', 'console');

/**
 * expect.poll as patient as Playwright's own waits (setDefaultTimeout below), not vitest's 1 s: a
 * page loaded cold while the machine's two cores are busy takes seconds to show its first figures.
 */
export const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 15_000 });

/**
 * A fresh build of console/ for this run (a few seconds) in a new temporary folder named after
 * `prefix`: a test never sees a stale bundle. Makes the screenshot folder too.
 */
export function buildConsole(prefix = 'console-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const vite = join('node_modules', 'vite', 'bin', 'vite.js');
  execFileSync(
    process.execPath,
    [vite, 'build', '--config', 'console/vite.config.ts', '--outDir', dir, '--logLevel', 'warn'],
    { stdio: 'inherit' },
  );
  mkdirSync(CONSOLE_SHOTS, { recursive: true });
  return dir;
}

/** The app listening on a free port of 127.0.0.1, the only host a page may reach: its base URL. */
export async function listenLocally(t: TestApp): Promise<string> {
  await t.app.listen(0, '127.0.0.1');
  return `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
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
export async function openConsole(browser: Browser): Promise<ConsolePage> {
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
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' || url.protocol === 'blob:' || url.protocol === 'data:') return route.continue();
    errors.push(`request to another host: ${url.href}`);
    return route.abort();
  });
  return { page, context, errors, sent };
}

/** The Idempotency-Keys of the requests sent to a path with a method, in order. */
export function keysSent(sent: Sent[], method: string, path: string): Array<string | undefined> {
  return sent.filter((s) => s.method === method && s.path === path).map((s) => s.key);
}

/** Signs in on the console at `baseUrl` with an access token; resolves once the navigation shows. */
export async function signIn(page: Page, baseUrl: string, accessToken: string): Promise<void> {
  await page.goto(`${baseUrl}/admin/`);
  await page.getByLabel('Access token').fill(accessToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation').getByRole('link', { name: 'Overview' }).waitFor();
}

/** Once no transition or animation runs (a dialog fades and scales in). */
export async function settled(page: Page): Promise<void> {
  await poll(() => page.evaluate(() => document.getAnimations().length)).toBe(0);
}

/** A full-page screenshot `<name>.png` in CONSOLE_SHOTS. */
export async function shot(page: Page, name: string): Promise<void> {
  // A dialog fades in: shoot once it is settled, not halfway through.
  await settled(page);
  // From the top: a full-page shot of a scrolled page draws the fixed header where it was scrolled to.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(CONSOLE_SHOTS, `${name}.png`), fullPage: true });
}
