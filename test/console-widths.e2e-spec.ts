import { rmSync } from 'node:fs';
import { join } from 'node:path';

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, type TestApp, token, uniqueId } from './support/app.js';
import { chromiumAvailable, CONSOLE_SHOTS, poll, ServedConsole, shot } from './support/console-browser.js';
import { buildPortal, openPage, saveShot } from './support/portal-browser.js';

/**
 * The console and the portal at a phone's 375 px and a laptop's 1280 px: no page wider than the
 * window, on every screen changed for it. Before: the console's sidebar never folded at 375 px and
 * figures were cut ("1,4" for 1,420); at 1280 px the usage table was 1,498 px wide, its Details
 * column off-screen; budgets could not be made or changed there and the runway was not shown. The
 * portal divided a day-old account's use by 14 days (1,269 used today, 1,420 left: "not within a
 * year") and offered key scopes the default settings refuse. Screenshots: test-results/console/widths-*.png.
 */
const WIDTHS = [375, 1280] as const;
const adminId = uniqueId('wadmin');
const userId = uniqueId('wuser');
const admin = () => bearer(token({ sub: adminId, role: 'admin' }));

/** How far the page reaches past the window, in CSS pixels (0 or less: it fits). */
const pageOverflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

describe.skipIf(!chromiumAvailable)('The console and the portal at 375 and 1280 px', () => {
  let served: ServedConsole;
  let t: TestApp;
  let portalDir: string;

  beforeAll(async () => {
    portalDir = await buildPortal();
    // The default METERING_TRUST: only service principals meter (an admin token here).
    served = await ServedConsole.start({ PORTAL_DIR: portalDir, METERING_TRUST: 'service' });
    t = served.t;
    await t.http.get('/api/users/me').set(admin()).expect(200);
    await t.http
      .post('/api/credits/allocate')
      .set(admin())
      .send({ userId, credits: 2_689, email: `${userId}@example.com`, username: userId })
      .expect(201);
    // A day-old account's first day: 1,269 used today, 1,420 left; a wide record among them.
    await t.http
      .post('/api/usage/record')
      .set(admin())
      .send({ userId, service: 'chat', operation: 'completion', credits: 1_000 })
      .expect(201);
    await t.http
      .post('/api/usage/record')
      .set(admin())
      .send({
        userId,
        service: 'chat',
        operation: 'a long operation name that a person might give',
        modelId: 'claude-sonnet-4-5-20250929',
        inputTokens: 120_000,
        outputTokens: 80_000,
        cacheReadTokens: 5_000,
        credits: 269,
      })
      .expect(201);
  }, 300_000);
  afterAll(async () => {
    await served?.close();
    if (portalDir) rmSync(portalDir, { recursive: true, force: true });
  });

  it('the console: sidebar, account page with its runway, usage and budgets fit the window', async () => {
    const { page, errors } = await served.open();
    await served.signIn(page, token({ sub: adminId, role: 'admin' }));
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 900 });
      await page.goto(`${served.baseUrl}/admin/`);
      await page.getByRole('heading', { level: 1 }).first().waitFor();
      const menu = page.getByRole('button', { name: 'Menu' });
      if (width === 375) {
        // Folded: the menu button opens it, picking a screen folds it again.
        // (Folded, the navigation stands left of the window: a box that ends at or before x = 0.)
        const navRight = async () => {
          const b = await page.getByRole('navigation').boundingBox();
          return b === null ? 0 : b.x + b.width;
        };
        await poll(() => menu.isVisible()).toBe(true);
        await poll(navRight).toBeLessThanOrEqual(0);
        await menu.click();
        await poll(navRight).toBeGreaterThan(100);
        await shot(page, `widths-console-menu-${width}`, { fullPage: false });
        await page.getByRole('navigation').getByRole('link', { name: 'Users' }).click();
        await poll(navRight).toBeLessThanOrEqual(0);
      } else {
        expect(await menu.isVisible()).toBe(false);
      }
      expect(await pageOverflow(page)).toBeLessThanOrEqual(0);
      await shot(page, `widths-console-overview-${width}`);

      await page.goto(`${served.baseUrl}/admin/users/${userId}`);
      // Figures whole, and the run-out day at today's use: tomorrow, not "not within a year".
      await poll(() => page.getByLabel('Available credits').textContent()).toBe('1,420');
      const box = await page.getByLabel('Available credits').evaluate((el) => el.scrollWidth - el.clientWidth);
      expect(box).toBeLessThanOrEqual(0);
      // The day the API says, at today's use (1,420 left at 1,269 a day: after tomorrow's start, so the
      // day after tomorrow late in a UTC day), whatever the hour the run starts.
      const runsOut = (await t.http.get(`/api/credits/runway?userId=${userId}&days=1`).set(admin()).expect(200)).body;
      const day = runsOut.runsOutAt.slice(0, 10);
      expect([1, 2].map((n) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10))).toContain(day);
      await poll(() => page.getByLabel('Runs out').textContent()).toBe(day);
      await expect(page.getByText('Runs out at today’s use').isVisible()).resolves.toBe(true);
      expect(await pageOverflow(page)).toBeLessThanOrEqual(0);
      await shot(page, `widths-console-account-${width}`);

      await page.getByRole('tab', { name: 'Usage' }).click();
      await page.getByRole('table', { name: 'Usage records' }).getByText('claude-sonnet-4-5-20250929').waitFor();
      expect(await pageOverflow(page)).toBeLessThanOrEqual(0);
      await shot(page, `widths-console-usage-${width}`);

      await page.getByRole('tab', { name: 'Budgets' }).click();
      const budgetId = `alpha-${width}`;
      await page.getByRole('button', { name: 'New budget' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Budget id').fill(budgetId);
      await dialog.getByLabel('Scope id').fill(`proj-${width}`);
      await dialog.getByLabel('Limit (credits)').fill('5000');
      await shot(page, `widths-console-budget-new-${width}`, { fullPage: false });
      await dialog.getByRole('button', { name: 'Create budget' }).click();
      const table = page.getByRole('table', { name: 'Budgets' });
      await table.getByText(budgetId).waitFor();
      await poll(() => table.getByRole('row').filter({ hasText: budgetId }).getByText('5,000').count()).toBe(2);
      await table.getByRole('button', { name: `Edit ${budgetId}` }).click();
      await page.getByRole('dialog').getByLabel('Limit (credits)').fill('7500');
      await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
      await poll(() => table.getByRole('row').filter({ hasText: budgetId }).getByText('7,500').count()).toBe(2);
      const api = await t.http.get(`/api/budgets/${budgetId}`).set(admin()).expect(200);
      expect(api.body).toMatchObject({ budgetId, limitCredits: 7500, scope: { kind: 'project', id: `proj-${width}` } });
      expect(await pageOverflow(page)).toBeLessThanOrEqual(0);
      await shot(page, `widths-console-budgets-${width}`);
    }
    expect(errors).toEqual([]);
  }, 240_000);

  it('the portal: the runway over the account’s own day, the key form’s scopes', async () => {
    const session = (await t.http.post('/api/portal/sessions').set(admin()).send({ userId }).expect(201)).body;
    const current = (await t.http.get('/api/portal/session').set(bearer(session.token)).expect(200)).body;
    // The default METERING_TRUST refuses a user's own usage writes (403): never offered; no gateway here.
    expect(current.keyScopes).toEqual(['credits:read', 'usage:read', 'sessions:read', 'pricing:read']);
    // One page, loaded afresh at each width as a first visit (test/portal-page.e2e-spec.ts).
    const { page, context, errors } = await openPage(served.browser, { width: WIDTHS[0], scheme: 'light' });
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 800 });
      await page.goto(`${served.baseUrl}/portal#token=${session.token}`);
      const days = [1, 2].map((n) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10));
      await poll(() => page.getByTestId('runs-out').textContent()).not.toBeNull();
      expect(await page.getByTestId('runs-out').textContent()).not.toBe('Not within a year');
      expect(await page.getByText('Runs out at today’s use').count()).toBe(1);
      const runway = (await t.http.get('/api/credits/runway?days=1').set(bearer(session.token)).expect(200)).body;
      // 1,420 left at 1,269 a day: tomorrow, or the day after late in a UTC day.
      expect(days).toContain(runway.runsOutAt.slice(0, 10));
      expect(await pageOverflow(page)).toBeLessThanOrEqual(0);
      await saveShot(page, join(CONSOLE_SHOTS, `widths-portal-balance-${width}.png`));

      await page.getByRole('tab', { name: 'API keys' }).click();
      const form = page.getByRole('form', { name: 'New key' });
      await form.waitFor();
      const offered = await form.locator('fieldset code').allTextContents();
      expect(offered).toEqual(current.keyScopes);
      expect(await pageOverflow(page)).toBeLessThanOrEqual(0);
      await saveShot(page, join(CONSOLE_SHOTS, `widths-portal-keys-${width}.png`));
      expect(errors).toEqual([]);
      await page.evaluate(() => sessionStorage.clear());
      await page.goto('about:blank');
    }
    await context.close();
  }, 180_000);
});
