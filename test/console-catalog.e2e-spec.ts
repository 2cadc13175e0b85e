import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, type TestApp, token, uniqueId } from './support/app.js';
import { chromiumAvailable, poll, ServedConsole, shot } from './support/console-browser.js';

const VERSION = (await import('../src/pricing/catalog/catalog-data.js')).installedCatalogVersion();

/**
 * The console's Catalogue page in Chromium, against an app with the price catalogue on (on a database
 * of its own: an import writes rules every other spec's pricing would see): the catalogue's models by
 * provider and search, an admin's import of one model that then shows as priced by a rule, and a
 * supervisor's page without the import. Screenshots land in test-results/console/ (catalog-*.png).
 */

let served: ServedConsole;
let t: TestApp;
let baseUrl: string;
const adminId = uniqueId('cadmin');
const supervisorId = uniqueId('csuper');
const admin = () => token({ sub: adminId, role: 'admin' });
const supervisor = () => token({ sub: supervisorId, role: 'supervisor' });
const MODEL = 'claude-sonnet-4-5';

/** How far the page reaches past the window, in CSS pixels (0 or less: it fits). */
const pageOverflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

/** The provider column of every row of the catalogue table (an admin's: the third, after the checkbox and the model). */
const providersShown = (page: Page) =>
  page
    .getByRole('table', { name: 'Catalogue models' })
    .locator('tbody tr')
    .evaluateAll((rows) => rows.map((row) => row.children[2]?.textContent ?? ''));

describe.skipIf(!chromiumAvailable)('Console: the price catalogue in a browser', () => {
  beforeAll(async () => {
    served = await ServedConsole.onOwnDatabase(
      'console_catalog',
      { JOBS_ENABLED: 'false', PRICE_CATALOG: 'true' },
      'console-catalog-',
    );
    ({ t, baseUrl } = served);
    await t.http.get('/api/users/me').set(bearer(admin())).expect(200);
    await t.http.get('/api/users/me').set(bearer(supervisor())).expect(200);
  }, 120_000);
  afterAll(async () => {
    await served?.close();
  });

  it('lists the catalogue by provider and search; an admin imports a model, which a rule then prices', async () => {
    const { page, errors } = await served.open();
    await served.signIn(page, admin());
    await page.getByRole('navigation').getByRole('link', { name: 'Catalogue' }).click();
    await poll(() => page.getByLabel('Catalogue version').textContent()).toBe(`Catalogue version ${VERSION}`);
    const table = page.getByRole('table', { name: 'Catalogue models' });
    await poll(async () => new Set(await providersShown(page)).size).toBeGreaterThan(1);

    await page.getByRole('combobox', { name: 'Provider' }).click();
    await page.getByRole('option', { name: 'anthropic', exact: true }).click();
    await poll(async () => [...new Set(await providersShown(page))]).toEqual(['anthropic']);
    await page.getByLabel('Search').fill('SONNET-4-5');
    const row = table.getByRole('row').filter({ has: page.getByText(MODEL, { exact: true }) });
    await poll(() => row.count()).toBe(1);
    // Once the search applies, every row shown has it in its model id or name (the id's title), any case.
    const matching = () =>
      table
        .locator('tbody tr')
        .evaluateAll((rows) =>
          rows.every((r) =>
            /sonnet-4-5/i.test(`${r.textContent} ${r.querySelector('[title]')?.getAttribute('title')}`),
          ),
        );
    await poll(matching).toBe(true);
    // 3 USD per million input tokens × 1000 credits per USD = 3 credits per 1k; 15 output.
    expect(await row.textContent()).toContain('3.0000');
    expect(await row.textContent()).toContain('15.0000');
    expect(await row.getByText('Catalogue', { exact: true }).count()).toBe(1);

    await row.getByRole('checkbox', { name: `Select ${MODEL}` }).check();
    await page.getByRole('button', { name: 'Import selected as rules (1)' }).click();
    const dialog = page.getByRole('dialog');
    await poll(() => dialog.textContent()).toContain(`1 model: ${MODEL}`);
    await dialog.getByRole('button', { name: 'Import' }).click();
    const done = page.getByRole('status').filter({ hasText: 'Imported' });
    await poll(() => done.textContent()).toContain(`1 rule created, 0 unchanged`);
    expect(await done.textContent()).toContain(MODEL);
    await poll(() => row.getByText('Rule', { exact: true }).count()).toBe(1);

    const rules = await t.http.get('/api/pricing').set(bearer(admin())).expect(200);
    const rule = rules.body.items.find((r: { modelId: string }) => r.modelId === MODEL);
    expect(rule).toMatchObject({ modelId: MODEL, pricePer1kTokens: '3.0000', outputPricePer1kTokens: '15.0000' });
    const listed = await t.http.get(`/api/pricing/catalog?q=${MODEL}`).set(bearer(admin())).expect(200);
    expect(listed.body.items.find((i: { model: string }) => i.model === MODEL).overriddenBy).toBe(rule.id);

    for (const width of [375, 1280]) {
      await page.setViewportSize({ width, height: 900 });
      await poll(() => pageOverflow(page)).toBeLessThanOrEqual(0);
      await shot(page, `catalog-admin-${width}`);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    }
    expect(errors).toEqual([]);
  });

  it('shows a supervisor the catalogue without the import', async () => {
    const { page, errors } = await served.open();
    await served.signIn(page, supervisor());
    await page.goto(`${baseUrl}/admin/catalog`);
    await poll(() => page.getByLabel('Catalogue version').textContent()).toBe(`Catalogue version ${VERSION}`);
    await page.getByLabel('Search').fill(MODEL);
    const table = page.getByRole('table', { name: 'Catalogue models' });
    const row = table.getByRole('row').filter({ has: page.getByText(MODEL, { exact: true }) });
    await poll(() => row.filter({ hasText: 'anthropic' }).count()).toBe(1);
    expect(await page.getByRole('button', { name: /Import/ }).count()).toBe(0);
    expect(await table.getByRole('checkbox').count()).toBe(0);
    for (const width of [375, 1280]) {
      await page.setViewportSize({ width, height: 900 });
      await poll(() => pageOverflow(page)).toBeLessThanOrEqual(0);
      await shot(page, `catalog-supervisor-${width}`);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    }
    expect(errors).toEqual([]);
  });
});
