import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';

import { CHROMIUM } from './chromium.js';
import { buildFrontend } from './frontend-build.js';

/** The portal in Chromium: its build, pages that collect errors, and axe-core run inside the page. */
export { CHROMIUM };
export const chromiumAvailable = existsSync(CHROMIUM);
export const PORTAL_SHOTS =
  process.env.PORTAL_SHOTS_DIR ?? join(import.meta.dirname, '..', '..', 'test-results', 'portal');

const axeSource = (): string => {
  const require = createRequire(import.meta.url);
  return require('axe-core').source as string;
};

/**
 * A fresh build of the portal and embed.js for this run, in a folder of the caller's own to remove:
 * never a stale bundle (built once per run, see buildFrontend).
 */
export function buildPortal(): Promise<string> {
  return buildFrontend('portal', 'portal-');
}

export interface PortalPage {
  page: Page;
  context: BrowserContext;
  /** Console errors, page errors and requests to hosts other than 127.0.0.1. */
  errors: string[];
}

export async function openPage(
  browser: Browser,
  options: { width: number; scheme: 'light' | 'dark'; locale?: string },
): Promise<PortalPage> {
  const context = await browser.newContext({
    viewport: { width: options.width, height: 800 },
    colorScheme: options.scheme,
    locale: options.locale ?? 'en-US',
    acceptDownloads: true,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await refuseOtherHosts(page, errors);
  return { page, context, errors };
}

/**
 * A screenshot to look at, at `path` (the whole page unless `fullPage` is false): the picture is the
 * test's artefact, not its assertion. Taken through the DevTools protocol as Playwright takes it (the
 * page's content size, drawn beyond the viewport when it is taller), but with Chromium's PNG encoder
 * told to favour speed (`optimizeForSpeed`): Playwright's own encodes at zlib's default effort, half
 * of a full-page shot's CPU (a run takes a few hundred shots). The file is a quarter larger.
 */
export async function saveShot(page: Page, path: string, options: { fullPage?: boolean } = {}): Promise<void> {
  const session = await devTools(page);
  const fullPage = options.fullPage ?? true;
  let clip: { x: number; y: number; width: number; height: number; scale: number } | undefined;
  let beyond = false;
  if (fullPage) {
    const { cssContentSize, cssLayoutViewport } = await session.send('Page.getLayoutMetrics');
    const width = Math.ceil(cssContentSize.width);
    const height = Math.ceil(cssContentSize.height);
    beyond = width > cssLayoutViewport.clientWidth || height > cssLayoutViewport.clientHeight;
    if (beyond) clip = { x: 0, y: 0, width, height, scale: 1 };
  }
  // Fonts drawn, as Playwright waits for them too.
  await page.evaluate(() => document.fonts.ready.then(() => undefined));
  const { data } = await session.send('Page.captureScreenshot', {
    format: 'png',
    optimizeForSpeed: true,
    captureBeyondViewport: beyond,
    ...(clip ? { clip } : {}),
  });
  await writeFile(path, Buffer.from(data, 'base64'));
}

const sessions = new WeakMap<Page, Promise<CDPSession>>();
/** The page's own DevTools session, opened once. */
function devTools(page: Page): Promise<CDPSession> {
  let session = sessions.get(page);
  if (!session) {
    session = page.context().newCDPSession(page);
    sessions.set(page, session);
  }
  return session;
}

/** Lets the page reach 127.0.0.1 (and blob:, data:) only; any other request is refused and noted. */
export async function refuseOtherHosts(page: Page, errors: string[]): Promise<void> {
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' || url.protocol === 'blob:' || url.protocol === 'data:') return route.continue();
    errors.push(`request to another host: ${url.href}`);
    return route.abort();
  });
}

/** axe-core's serious and critical violations on the page as it is now (WCAG 2.x A and AA rules). */
export async function seriousViolations(page: Page): Promise<string[]> {
  // Through the DevTools protocol, not a <script>: the portal's CSP refuses inline scripts.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource());
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (o: unknown) => Promise<{ violations: unknown[] }> } }).axe;
    const result = await axe.run({ resultTypes: ['violations'] });
    return result.violations as Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }>;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}
