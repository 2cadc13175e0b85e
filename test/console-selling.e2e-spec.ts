import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, type TestApp, token, uniqueId } from './support/app.js';
import { chromiumAvailable, keysSent, poll, ServedConsole, shot } from './support/console-browser.js';
import { currencyDrawer, twoPlaceCurrencies } from './support/currencies.js';

/**
 * The console's Packages and Promotions screens in a real browser (Debian's chromium,
 * playwright-core): an admin puts a package on sale and takes it off, creates a promotion code,
 * reads its redemptions and disables it; a supervisor reads without the actions. Screenshots land
 * in test-results/console/.
 */

let served: ServedConsole;
let t: TestApp;
let baseUrl: string;
const adminId = uniqueId('sadmin');
const supervisorId = uniqueId('ssuper');
// A currency of this spec's own: packages in usd would put a floor under other specs' purchases.
// An ISO 4217 code of 2 places from n to z: test/selling-packages.e2e-spec.ts draws from a to m.
const CURRENCY = currencyDrawer(twoPlaceCurrencies('n', 'z'))();
const PACKAGE_ID = uniqueId('pack').toLowerCase();
const CODE = `WELCOME-${uniqueId('').slice(2).toUpperCase()}`;

describe.skipIf(!chromiumAvailable)('the Packages and Promotions screens in a browser', () => {
  beforeAll(async () => {
    served = await ServedConsole.start();
    ({ t, baseUrl } = served);
    await t.http
      .get('/api/users/me')
      .set(bearer(token({ sub: adminId, role: 'admin' })))
      .expect(200);
    await t.http
      .get('/api/users/me')
      .set(bearer(token({ sub: supervisorId, role: 'supervisor' })))
      .expect(200);
  }, 120_000);
  afterAll(async () => {
    await served?.close();
  });

  it('an admin puts a package on sale and takes it off', async () => {
    const { page, errors, sent } = await served.open();
    await served.signIn(page, token({ sub: adminId, role: 'admin' }));
    await page.getByRole('navigation').getByRole('link', { name: 'Packages' }).click();
    await page.getByRole('button', { name: 'New package' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Package id').fill(PACKAGE_ID);
    await dialog.getByLabel('Name').fill('Starter');
    await dialog.getByLabel(/^Credits/).fill('1000');
    await dialog.getByLabel('Bonus credits').fill('100');
    await dialog.getByLabel('Price').fill('10.00');
    await dialog.getByLabel('Currency').fill(CURRENCY);
    await shot(page, 'packages-new');
    await dialog.getByRole('button', { name: 'Put on sale' }).dblclick();
    await dialog.waitFor({ state: 'detached' });
    const table = page.getByRole('table', { name: 'Packages' });
    const row = table.getByRole('row').filter({ hasText: PACKAGE_ID });
    await poll(() => row.textContent()).toContain('on sale');
    expect(await row.textContent()).toContain(`10.00 ${CURRENCY.toUpperCase()}`);
    expect(await row.textContent()).toContain('1,000');
    await shot(page, 'packages');
    // a double click sends one key: one package
    const createKeys = keysSent(sent, 'POST', '/api/packages');
    expect(new Set(createKeys).size).toBe(1);
    const { rows } = await t.db.query(
      `SELECT credits, bonus_credits, amount, currency, active FROM packages WHERE package_id = $1`,
      [PACKAGE_ID],
    );
    // stored with 4 places (numeric(14,4): every currency's minor places)
    expect(rows).toEqual([{ credits: 1000, bonus_credits: 100, amount: '10.0000', currency: CURRENCY, active: true }]);

    await row.getByRole('button', { name: `Take off sale ${PACKAGE_ID}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Take off sale' }).click();
    await poll(() => row.textContent()).toContain('off sale');
    await shot(page, 'packages-off-sale');
    const after = await t.db.query(`SELECT active FROM packages WHERE package_id = $1`, [PACKAGE_ID]);
    expect(after.rows).toEqual([{ active: false }]);
    expect(errors).toEqual([]);
  });

  it('an admin creates a code, reads its redemptions and disables it', async () => {
    const { page, errors } = await served.open();
    await served.signIn(page, token({ sub: adminId, role: 'admin' }));
    await page.getByRole('navigation').getByRole('link', { name: 'Promotions' }).click();
    await page.getByRole('button', { name: 'New promotion' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Code').fill(CODE.toLowerCase());
    await dialog.getByLabel('Credits').fill('500');
    await dialog.getByLabel('Redemptions in all').fill('100');
    await dialog.getByLabel('Ends (UTC)').fill('2099-01-01T00:00:00Z');
    await shot(page, 'promotions-new');
    await dialog.getByRole('button', { name: 'Create code' }).click();
    await dialog.waitFor({ state: 'detached' });
    const table = page.getByRole('table', { name: 'Promotion codes' });
    const row = table.getByRole('row').filter({ hasText: CODE });
    await poll(() => row.textContent()).toContain('active');
    expect(await row.textContent()).toContain('0 of 100');
    expect(await row.textContent()).toContain('now – 2099-01-01 00:00:00 UTC');

    const redeemer = uniqueId('redeemer');
    await t.http
      .post('/api/promotions/redeem')
      .set(bearer(token({ sub: redeemer })))
      .send({ code: CODE })
      .expect(201);
    await page.reload();
    await poll(() => row.textContent()).toContain('1 of 100');
    await row.getByRole('button', { name: `Redemptions of ${CODE}` }).click();
    const redemptions = page.getByRole('table', { name: `Redemptions of ${CODE}` });
    await poll(() => redemptions.textContent()).toContain(redeemer);
    expect(await redemptions.textContent()).toContain('500');
    await shot(page, 'promotions-redemptions');

    await row.getByRole('button', { name: `Disable ${CODE}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Disable code' }).click();
    await poll(() => row.textContent()).toContain('disabled');
    await shot(page, 'promotions-disabled');
    const refused = await t.http
      .post('/api/promotions/redeem')
      .set(bearer(token({ sub: uniqueId('late') })))
      .send({ code: CODE });
    expect(refused.body.code).toBe('PROMOTION_NOT_FOUND');
    expect(errors).toEqual([]);
  });

  it('shows a supervisor the lists without the actions', async () => {
    const { page, errors } = await served.open();
    await served.signIn(page, token({ sub: supervisorId, role: 'supervisor' }));
    await page.goto(`${baseUrl}/admin/packages`);
    const packages = page.getByRole('table', { name: 'Packages' });
    await poll(() => packages.textContent()).toContain(PACKAGE_ID);
    expect(await page.getByRole('button', { name: 'New package' }).count()).toBe(0);
    expect(await packages.getByRole('button').count()).toBe(0);
    await page.goto(`${baseUrl}/admin/promotions`);
    const codes = page.getByRole('table', { name: 'Promotion codes' });
    await poll(() => codes.textContent()).toContain(CODE);
    expect(await page.getByRole('button', { name: 'New promotion' }).count()).toBe(0);
    expect(await codes.getByRole('button', { name: `Disable ${CODE}` }).count()).toBe(0);
    expect(await codes.getByRole('button', { name: `Enable ${CODE}` }).count()).toBe(0);
    expect(await codes.getByRole('button', { name: `Redemptions of ${CODE}` }).count()).toBe(1);
    expect(errors).toEqual([]);
  });
});
