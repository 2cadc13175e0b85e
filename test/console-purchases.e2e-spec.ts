import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, type TestApp, token, uniqueId } from './support/app.js';
import { chromiumAvailable, keysSent, poll, ServedConsole, shot } from './support/console-browser.js';

/**
 * The console's Purchases tab in a real browser (Debian's chromium, playwright-core), as
 * test/console.e2e-spec.ts drives the rest: status, refundable quote, an admin's Refund. Only
 * 127.0.0.1 is reachable from the page. Screenshots land in test-results/console/.
 */

let served: ServedConsole;
let t: TestApp;
let baseUrl: string;
const adminId = uniqueId('padmin');
const supervisorId = uniqueId('psuper');
const buyerId = uniqueId('pbuyer');

describe.skipIf(!chromiumAvailable)('the Purchases tab in a browser', () => {
  let paidId: string;

  beforeAll(async () => {
    served = await ServedConsole.start();
    ({ t, baseUrl } = served);
    const admin = bearer(token({ sub: adminId, role: 'admin' }));
    await t.http.get('/api/users/me').set(admin).expect(200);
    await t.http
      .get('/api/users/me')
      .set(bearer(token({ sub: supervisorId, role: 'supervisor' })))
      .expect(200);
    const buyer = bearer(token({ sub: buyerId, email: `${buyerId}@example.com`, username: buyerId }));
    await t.http.get('/api/users/me').set(buyer).expect(200);
    const buy = (credits: number, amount: string) =>
      t.http
        .post('/api/purchases')
        .set(admin)
        .send({ userId: buyerId, credits, amount, currency: 'usd', provider: 'stripe' })
        .expect(201);
    paidId = (await buy(1000, '10.00')).body.id;
    await t.http.post(`/api/purchases/${paidId}/paid`).set(admin).send({ providerPaymentId: 'pi_console' }).expect(200);
    await buy(500, '5.00'); // left pending
    await t.http
      .post('/api/usage/record')
      .set(buyer)
      .send({ service: 'chat', operation: 'c', credits: 400 })
      .expect(201);
  }, 120_000);
  afterAll(async () => {
    await served?.close();
  });

  it('shows status and refundable, and refunds once (admin)', async () => {
    const { page, errors, sent } = await served.open();
    await served.signIn(page, token({ sub: adminId, role: 'admin' }));
    await page.goto(`${baseUrl}/admin/users/${buyerId}`);
    await poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe(buyerId);
    await page.getByRole('tab', { name: 'Purchases' }).click();
    const table = page.getByRole('table', { name: 'Purchases' });
    const paidRow = table.getByRole('row').filter({ hasText: 'pi_console' });
    await poll(() => paidRow.textContent()).toContain('600 (6.00)');
    expect(await paidRow.textContent()).toContain('paid');
    const pendingRow = table.getByRole('row').filter({ hasText: 'pending payment' });
    expect(await pendingRow.count()).toBe(1);
    expect(await pendingRow.getByRole('button', { name: 'Refund' }).count()).toBe(0);
    await shot(page, 'purchases');

    await paidRow.getByRole('button', { name: 'Refund' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Credits (empty: all refundable)').fill('100');
    await dialog.getByLabel('Reason').fill('asked by the buyer');
    await shot(page, 'purchases-refund-dialog');
    await dialog.getByRole('button', { name: 'Refund' }).dblclick();
    await dialog.waitFor({ state: 'detached' });
    await poll(() => paidRow.textContent()).toContain('500 (5.00)');
    expect(await paidRow.textContent()).toContain('partially refunded');
    expect(await paidRow.textContent()).toContain('100 (1.00)');
    await shot(page, 'purchases-refunded');
    // a double click sends one key: one refund
    const refundKeys = keysSent(sent, 'POST', `/api/purchases/${paidId}/refunds`);
    expect(new Set(refundKeys).size).toBe(1);
    const refunds = await t.db.query(`SELECT credits, amount FROM purchase_refunds WHERE purchase_id = $1`, [paidId]);
    // stored with 4 places (numeric(14,4): every currency's minor places)
    expect(refunds.rows).toEqual([{ credits: 100, amount: '1.0000' }]);
    expect(errors).toEqual([]);
  });

  it('shows a supervisor no Refund action', async () => {
    const { page, errors } = await served.open();
    await served.signIn(page, token({ sub: supervisorId, role: 'supervisor' }));
    await page.goto(`${baseUrl}/admin/users/${buyerId}`);
    await page.getByRole('tab', { name: 'Purchases' }).click();
    const table = page.getByRole('table', { name: 'Purchases' });
    await poll(() => table.getByRole('row').filter({ hasText: 'pi_console' }).textContent()).toContain('500 (5.00)');
    expect(await table.getByRole('button', { name: 'Refund' }).count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
