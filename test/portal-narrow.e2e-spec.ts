import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { launchChromium } from './support/chromium.js';
import {
  buildPortal,
  CHROMIUM,
  chromiumAvailable,
  openPage,
  saveShot,
  seriousViolations,
} from './support/portal-browser.js';

/**
 * The portal at 375 px (a phone): no tab is wider than the screen, and the API keys tab shows its
 * keys without a table to scroll sideways. Screenshots: /tmp/portal-narrow-*.png.
 */
if (!chromiumAvailable) console.warn(`portal browser test skipped: no Chromium at ${CHROMIUM}`);
const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 15_000 });
const WIDTH = 375;

/** How far the page and the element named reach past their boxes, in CSS pixels (0: they fit). */
const overflow = (page: Page, selector: string) =>
  page.evaluate((sel) => {
    const el = document.querySelector(sel);
    return {
      page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      element: el === null ? null : el.scrollWidth - el.clientWidth,
    };
  }, selector);

describe.skipIf(!chromiumAvailable)('The portal at 375 px', () => {
  let t: TestApp;
  let chrome: Browser;
  let dir: string;
  let base: string;
  const admin = bearer(token({ sub: uniqueId('pnadmin'), role: 'admin' }));
  const userId = uniqueId('pnuser');
  const user = bearer(token({ sub: userId }));

  beforeAll(async () => {
    dir = await buildPortal();
    t = await startTestApp({ PORTAL_DIR: dir });
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    await t.http.get('/api/users/me').set(admin).expect(200);
    await t.http.get('/api/users/me').set(user).expect(200);
    await t.http.post('/api/credits/allocate').set(admin).send({ userId, credits: 12_500 }).expect(201);
    // The widest row a person makes: every scope, a budget, a long name.
    await t.http
      .post('/api/api-keys')
      .set(user)
      .send({
        name: 'Production backend (eu-west)',
        permissions: ['credits:read', 'usage:read', 'usage:write'],
        creditLimit: 250_000,
        limitPeriod: 'month',
      })
      .expect(201);
    await t.http.post('/api/api-keys').set(user).send({ name: 'laptop' }).expect(201);
    chrome = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await chrome?.close();
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const scheme of ['light', 'dark'] as const) {
    it(`shows the API keys without sideways scrolling (${scheme})`, async () => {
      const minted = (await t.http.post('/api/portal/sessions').set(admin).send({ userId }).expect(201)).body;
      const { page, context, errors } = await openPage(chrome, { width: WIDTH, scheme });
      await page.goto(`${base}/portal#token=${minted.token}`);
      await page.getByRole('tab', { name: 'API keys' }).click();
      const keys = page.getByRole('region', { name: 'API keys' });
      await poll(() => keys.getByRole('button', { name: /^Revoke / }).count()).toBe(2);
      await saveShot(page, `/tmp/portal-narrow-keys-${scheme}.png`);
      expect(await overflow(page, '[role=region][aria-label="API keys"]')).toEqual({ page: 0, element: 0 });
      // Every figure of a key is still there, each with its column's name.
      const first = keys.getByRole('row').filter({ hasText: 'Production backend (eu-west)' });
      for (const text of ['credits:read, usage:read, usage:write', '0 of 250,000 per month', 'Budget', 'Scopes'])
        expect([text, (await first.textContent())?.includes(text)]).toEqual([text, true]);
      const labels = keys.locator('.cell-label');
      expect(await labels.first().isVisible()).toBe(true);
      expect(await seriousViolations(page)).toEqual([]);
      // Wide, the same keys are a table again: its headings name the columns, no card labels.
      await page.setViewportSize({ width: 1280, height: 800 });
      await poll(() => labels.first().isVisible()).toBe(false);
      expect(await keys.getByRole('columnheader', { name: 'Budget' }).isVisible()).toBe(true);
      await saveShot(page, `/tmp/portal-narrow-keys-1280-${scheme}.png`, { fullPage: false });
      expect(await overflow(page, '[role=region][aria-label="API keys"]')).toEqual({ page: 0, element: 0 });
      expect(errors).toEqual([]);
      await context.close();
    }, 120_000);
  }
});
