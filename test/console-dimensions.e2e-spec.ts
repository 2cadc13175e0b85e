import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, type TestApp, token, uniqueId } from './support/app.js';
import { chromiumAvailable, poll, ServedConsole, shot } from './support/console-browser.js';
import { buildPortal, openPage, PORTAL_SHOTS, saveShot } from './support/portal-browser.js';

/**
 * Service tiers and units in the pages (docs/console.md "What the screens show", docs/portal.md): a price rule made
 * with tiers and unit prices in the console's form and shown in its history, an account price with
 * unit prices, and records priced at a tier with units on a user's Usage tab and in the portal.
 * Screenshots land in test-results/console/ (dimensions-*.png) and test-results/portal/.
 */

let served: ServedConsole;
let t: TestApp;
let baseUrl: string;
let portalDir: string;
const adminId = uniqueId('dadmin');
const userId = uniqueId('duser');
const model = uniqueId('openai.console-dims');
const admin = () => token({ sub: adminId, role: 'admin' });

describe.skipIf(!chromiumAvailable)('Console and portal: service tiers and units in a browser', () => {
  beforeAll(async () => {
    portalDir = await buildPortal();
    mkdirSync(PORTAL_SHOTS, { recursive: true });
    // A database of its own: the Pricing page lists every price rule of its database, and on the
    // shared one its loads and renders grew with the rules the spec files before this one had made.
    served = await ServedConsole.onOwnDatabase('console_dimensions', { PORTAL_DIR: portalDir }, 'console-dims-');
    ({ t, baseUrl } = served);
    const as = bearer(admin());
    await t.http.get('/api/users/me').set(as).expect(200);
    await t.http
      .post('/api/credits/allocate')
      .set(as)
      .send({ userId, credits: 1000, email: `${userId}@example.com`, username: userId })
      .expect(201);
  }, 120_000);
  afterAll(async () => {
    await served?.close();
    rmSync(portalDir, { recursive: true, force: true });
  });

  it('makes a rule with tiers and unit prices in its form, shown in effect and in its history', async () => {
    const { page, errors, context } = await served.open();
    await served.signIn(page, admin());
    await page.getByRole('navigation').getByRole('link', { name: 'Pricing' }).click();
    await page.getByRole('button', { name: 'New price rule' }).click();
    const dialog = page.getByRole('dialog', { name: 'New price rule' });
    await dialog.getByLabel('Model').fill(model);
    await dialog.getByLabel('Price per 1k tokens').fill('1');
    await dialog.getByLabel('Output price per 1k').fill('2');
    const tiers = dialog.getByLabel('Service tiers (percent of every price)');
    // Not pairs: the form says so under the field and sends nothing.
    await tiers.fill('flex');
    await dialog.getByText('Service tiers: write name=value pairs ("flex")').waitFor();
    expect(await dialog.getByRole('button', { name: 'Create rule' }).isDisabled()).toBe(true);
    await tiers.fill('flex=50, priority=200');
    await dialog.getByLabel('Unit prices (credits per unit)').fill('web_search_call=0.3333 image.1024x1024.hd=2.5');
    await shot(page, 'dimensions-rule-form', { subject: dialog });
    await dialog.getByRole('button', { name: 'Create rule' }).click();
    const history = page.getByRole('table', { name: `History of ${model}` });
    const row = history.getByRole('row').nth(1);
    await poll(() => row.textContent()).toContain('Tiers: flex 50.00 % · priority 200.00 %');
    expect(await row.textContent()).toContain('Units: image.1024x1024.hd 2.5000 · web_search_call 0.3333');
    const inForce = page.getByRole('table', { name: 'Prices in effect' }).getByRole('row').filter({ hasText: model });
    await poll(() => inForce.textContent()).toContain('Tiers: flex 50.00 %');
    await shot(page, 'dimensions-history', { subject: history });
    const rules = await t.http.get(`/api/pricing/${model}/history`).set(bearer(admin())).expect(200);
    expect(rules.body.items[0]).toMatchObject({
      serviceTiers: { flex: { pricePercent: '50.00' }, priority: { pricePercent: '200.00' } },
      unitPrices: { web_search_call: '0.3333', 'image.1024x1024.hd': '2.5000' },
    });
    // A simulation starts from the rules in force, tiers and units included (else its difference lies).
    const sheet = JSON.parse(await page.getByLabel('Rules to simulate').inputValue()) as Array<{ modelId: string }>;
    expect(sheet.find((rule) => rule.modelId === model)).toMatchObject({
      serviceTiers: { flex: { pricePercent: '50.00' } },
      unitPrices: { web_search_call: '0.3333' },
    });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('changes one tier of a rule from its history, every other price and unit kept', async () => {
    const changed = uniqueId('openai.console-change');
    const as = bearer(admin());
    await t.http
      .post('/api/pricing')
      .set(as)
      .send({
        modelId: changed,
        pricePer1kTokens: '1.25',
        outputPricePer1kTokens: '10',
        cacheReadPricePer1kTokens: '0.125',
        serviceTiers: { flex: { pricePercent: 50 }, priority: { pricePercent: 200 } },
        unitPrices: { web_search_call: '10' },
      })
      .expect(201);
    const { page, errors, context } = await served.open();
    await served.signIn(page, admin());
    await page.getByRole('navigation').getByRole('link', { name: 'Pricing' }).click();
    await page.getByLabel('Model id').fill(changed);
    await page.getByRole('button', { name: 'Show history' }).click();
    await page.getByRole('button', { name: 'Change prices' }).click();
    const dialog = page.getByRole('dialog', { name: `Change prices of ${changed}` });
    const tiers = dialog.getByLabel('Service tiers (percent of every price)');
    // The form starts from the rule in force: its prices, tiers and unit prices as they are.
    await poll(() => tiers.inputValue()).toBe('flex=50.00 priority=200.00');
    expect(await dialog.getByLabel('Unit prices (credits per unit)').inputValue()).toBe('web_search_call=10.0000');
    expect(await dialog.getByLabel('Output price per 1k').inputValue()).toBe('10.0000');
    await tiers.fill('flex=40 priority=200.00');
    await shot(page, 'dimensions-change-rule', { subject: dialog });
    await dialog.getByRole('button', { name: 'Create rule' }).click();
    const newest = page
      .getByRole('table', { name: `History of ${changed}` })
      .getByRole('row')
      .nth(1);
    await poll(() => newest.textContent()).toContain('Tiers: flex 40.00 % · priority 200.00 %');
    expect(await newest.textContent()).toContain('Units: web_search_call 10.0000');
    const history = await t.http.get(`/api/pricing/${changed}/history`).set(as).expect(200);
    expect(history.body.items).toHaveLength(2);
    expect(history.body.items[0]).toMatchObject({
      pricePer1kTokens: '1.2500',
      outputPricePer1kTokens: '10.0000',
      cacheReadPricePer1kTokens: '0.1250',
      serviceTiers: { flex: { pricePercent: '40.00' }, priority: { pricePercent: '200.00' } },
      unitPrices: { web_search_call: '10.0000' },
      effectiveTo: null,
    });
    expect(history.body.items[1].serviceTiers.flex.pricePercent).toBe('50.00');
    await shot(page, 'dimensions-changed-history', {
      subject: page.getByRole('table', { name: `History of ${changed}` }),
    });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('makes an account price with unit prices in its form, shown on the Pricing tab', async () => {
    const { page, errors, context } = await served.open();
    await served.signIn(page, admin());

    // An account price whose unit price replaces the rule's.
    await page.goto(`${baseUrl}/admin/users/${userId}`);
    await poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe(userId);
    await page.getByRole('tab', { name: 'Pricing' }).click();
    await page.getByRole('button', { name: 'New account price' }).click();
    const priceDialog = page.getByRole('dialog', { name: 'New account price' });
    await priceDialog.getByLabel('Model or pattern').fill(model);
    await priceDialog.getByLabel('Unit prices (credits per unit)').fill('web_search_call=1');
    await priceDialog.getByLabel('Notes').fill('Search deal');
    await priceDialog.getByRole('button', { name: 'Create price' }).click();
    const priceRow = page.getByRole('table', { name: 'Account prices' }).getByRole('row').filter({ hasText: model });
    await poll(() => priceRow.textContent()).toContain('units: web_search_call 1.0000');
    await shot(page, 'dimensions-account-price');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows the tier and units of each record on the Usage tab', async () => {
    // Records at a tier with units: 4,000 input at flex = 2; 3 searches at the account's 1 × 0.5 = 1.5 → 2.
    const as = bearer(admin());
    const record = (body: object) =>
      t.http
        .post('/api/usage/record')
        .set(as)
        .send({ userId, service: 'chat', operation: 'reply', modelId: model, ...body });
    expect((await record({ inputTokens: 4000, serviceTier: 'flex' }).expect(201)).body.credits).toBe(2);
    const searched = await record({ inputTokens: 0, serviceTier: 'flex', units: { web_search_call: 3 } }).expect(201);
    expect(searched.body.credits).toBe(2);
    await record({ inputTokens: 1000 }).expect(201);
    const { page, errors, context } = await served.open();
    await served.signIn(page, admin());
    await page.goto(`${baseUrl}/admin/users/${userId}`);
    await page.getByRole('tab', { name: 'Usage' }).click();
    const usage = page.getByRole('table', { name: 'Usage records' });
    await poll(() => usage.getByRole('row').count()).toBe(4);
    const column = (await usage.getByRole('columnheader').allTextContents()).indexOf('Tier · units');
    expect(column).toBeGreaterThan(0);
    const cells = await usage
      .getByRole('row')
      .evaluateAll((rows, i) => rows.slice(1).map((r) => r.querySelectorAll('td')[i]?.textContent), column);
    expect(cells).toEqual(['—', 'flex · web_search_call × 3', 'flex']);
    await shot(page, 'dimensions-usage');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows the tier and units of each record on the portal’s usage tab', async () => {
    const session = await t.http.post('/api/portal/sessions').set(bearer(admin())).send({ userId }).expect(201);
    const { page, context, errors } = await openPage(served.browser, { width: 1280, scheme: 'light' });
    await page.goto(`${baseUrl}/portal#token=${session.body.token}`);
    await page.getByRole('tab', { name: 'Usage' }).click();
    const region = page.getByRole('region', { name: 'Usage records' });
    await poll(() => region.locator('tbody tr').count()).toBe(3);
    expect(await region.getByRole('columnheader').allTextContents()).toContain('Tokens and units');
    const texts = await region.locator('tbody tr').allTextContents();
    // Newest first: the plain record, the searches at flex, the flex record.
    expect(texts[0]).not.toContain('tier');
    expect(texts[1]).toContain('tier flex · web_search_call × 3');
    expect(texts[2]).toContain('tier flex');
    expect(texts[2]).not.toContain('web_search_call');
    await saveShot(page, join(PORTAL_SHOTS, 'dimensions-usage.png'));
    expect(errors).toEqual([]);
    await context.close();
  });
});
