import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { CHROMIUM, launchChromium } from './support/chromium.js';

/**
 * Swagger UI in a real browser (Debian's chromium, driven by playwright-core): authorize with a
 * bearer token, then "Try it out" → "Execute" on a GET and on the record POST, as a newcomer would.
 * Only 127.0.0.1 is reachable from the page: Swagger UI's assets come from the service itself.
 */
const available = existsSync(CHROMIUM);
if (!available) console.warn(`swagger-ui browser test skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);

let t: TestApp;
let browser: Browser;
let page: Page;
let baseUrl: string;
const userId = uniqueId('swagger');

describe.skipIf(!available)('Swagger UI in a browser', () => {
  beforeAll(async () => {
    t = await startTestApp();
    baseUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    await t.http
      .post('/api/credits/allocate')
      .set(bearer(token({ sub: uniqueId('admin'), role: 'admin' })))
      .send({ userId, credits: 100, email: `${userId}@example.com`, username: userId })
      .expect(201);
    browser = await launchChromium();
    page = await browser.newPage();
    page.setDefaultTimeout(15_000);
    await page.route('**/*', (route) =>
      new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort(),
    );
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('authorizes with a bearer token (offered first) and executes a GET and the record POST', async () => {
    // Its own CSP is in force and nothing of the page breaks it (a refused script would show here).
    const refused: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
    });
    const response = await page.goto(`${baseUrl}/api/docs`);
    expect(response?.headers()['content-security-policy']).toMatch(/script-src 'self'/);
    await page.locator('button.authorize').first().click();
    const schemes = page.locator('.modal-ux .auth-container');
    await expect.poll(() => schemes.first().locator('h4').textContent()).toContain('bearer');
    const bearerScheme = schemes.first();
    const typed = token({ sub: userId });
    await bearerScheme.locator('input').fill(typed);
    await bearerScheme.locator('button.authorize').click();
    await page.locator('.modal-ux button.btn-done').first().click();

    expect(await execute('#operations-credits-getBalance')).toBe('200');
    expect(await execute('#operations-usage-recordUsage')).toBe('201');
    expect(refused).toEqual([]);
    // The token lived in the page only: nothing of it in the browser's storage, and a reload forgets it.
    const stored = await page.evaluate(
      () => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
    );
    expect(stored).not.toContain(typed);
    expect(stored).not.toMatch(/eyJ[\w-]+\.eyJ/); // no JWT at all
    expect(await page.locator('button.authorize.locked').count()).toBeGreaterThan(0); // authorized now
    await page.reload();
    await page.locator('button.authorize').first().waitFor();
    expect(await page.locator('button.authorize.locked').count()).toBe(0);
    const balance = await t.http.get('/api/credits/balance').set(bearer(token({ sub: userId })));
    expect(balance.body.totalCredits).toBe(100 - 12); // the byCredits example charged 12
  });
});

/** Opens an operation, "Try it out", "Execute"; the status Swagger UI shows for the live answer. */
async function execute(operation: string): Promise<string> {
  const op = await reveal(operation);
  await op.locator('.opblock-summary').first().click();
  await op.getByRole('button', { name: 'Try it out' }).click();
  await op.getByRole('button', { name: 'Execute' }).click();
  const status = op.locator('.live-responses-table .response .response-col_status').first();
  await status.waitFor();
  return ((await status.textContent()) ?? '').trim();
}

/**
 * The operation, rendered. Once the document's tags and operations number 150 or more, Swagger UI
 * (5.x) virtualizes the list: only the operations near the viewport are in the page, the others appear
 * as the reader scrolls. So scroll down a screen at a time (a frame each) until it is there.
 */
async function reveal(operation: string) {
  const op = page.locator(operation);
  await page.evaluate(() => window.scrollTo(0, 0));
  for (let screens = 0; (await op.count()) === 0; screens++) {
    if (screens > 400) throw new Error(`${operation} is not in the page`);
    await page.evaluate(() => {
      window.scrollBy(0, window.innerHeight);
      return new Promise((frame) => requestAnimationFrame(frame));
    });
  }
  await op.scrollIntoViewIfNeeded();
  return op;
}
