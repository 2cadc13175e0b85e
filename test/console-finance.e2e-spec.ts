import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, type TestApp, token, uniqueId } from './support/app.js';
import { chromiumAvailable, poll, ServedConsole, shot } from './support/console-browser.js';
import { deliverStripe, paidSession, STRIPE_SECRET, stripeEvent } from './support/stripe.js';

/**
 * The console's Finance page in a real browser (Debian's chromium, playwright-core): an admin uploads
 * a Stripe payout report made from the test's own purchases and reads what did not match.
 * Screenshots land in test-results/console/.
 */
const HEADER =
  'automatic_payout_id,balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,payment_intent_id';

let served: ServedConsole;
let t: TestApp;
let workDir: string;
const adminId = uniqueId('fadmin');

describe.skipIf(!chromiumAvailable)('the Finance page', () => {
  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'finance-'));
    // Its own database: the report's missing purchases are every Stripe purchase paid in its span.
    served = await ServedConsole.onOwnDatabase('console_finance', { STRIPE_WEBHOOK_SECRET: STRIPE_SECRET });
    ({ t } = served);
    await t.http
      .get('/api/users/me')
      .set(bearer(token({ sub: adminId, role: 'admin' })))
      .expect(200);
  }, 120_000);
  afterAll(async () => {
    await served?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  /** A Stripe purchase of 10.00 usd paid by a signed Checkout Session event. */
  async function paid() {
    const admin = bearer(token({ sub: adminId, role: 'admin' }));
    const userId = uniqueId('buyer');
    await t.http
      .get('/api/users/me')
      .set(bearer(token({ sub: userId })))
      .expect(200);
    const created = await t.http
      .post('/api/purchases')
      .set(admin)
      .send({ userId, credits: 1000, amount: '10.00', currency: 'usd', provider: 'stripe' })
      .expect(201);
    const session = paidSession(created.body.id, 1000);
    await deliverStripe(t, stripeEvent('checkout.session.completed', session));
    const purchase = (await t.http.get(`/api/purchases/${created.body.id}`).set(admin).expect(200)).body;
    return { id: purchase.id as string, pi: session.payment_intent, at: (purchase.paidAt as string).slice(0, 19) };
  }

  it('uploads a payout report and shows the unknown row and the missing purchase', async () => {
    const first = await paid();
    const left = await paid();
    const last = await paid();
    const at = (iso: string) => iso.replace('T', ' ');
    const report = [
      HEADER,
      `po_console,txn_first,${at(first.at)},usd,10.00,0.59,9.41,charge,${first.pi}`,
      `po_console,txn_last,${at(last.at)},usd,10.00,0.59,9.41,charge,${last.pi}`,
      `po_console,txn_stranger,${at(last.at)},usd,25.00,1.03,23.97,charge,pi_stranger`,
      `po_console,txn_fee,${at(last.at)},usd,-2.00,0.00,-2.00,fee,`,
    ].join('\n');
    const file = join(workDir, 'payout_reconciliation_itemized.csv');
    writeFileSync(file, `${report}\n`);

    const { page, errors } = await served.open();
    await served.signIn(page, token({ sub: adminId, role: 'admin' }));
    await page.getByRole('navigation').getByRole('link', { name: 'Finance' }).click();
    await poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Finance');
    await page.getByRole('button', { name: 'Upload a payout report' }).click();
    const dialog = page.getByRole('dialog', { name: 'Reconcile a Stripe payout report' });
    await dialog.locator('input[type=file]').setInputFiles(file);
    await shot(page, 'finance-upload');
    await dialog.getByRole('button', { name: 'Reconcile' }).click();
    await poll(() => dialog.count()).toBe(0);

    const table = page.getByRole('table', { name: 'Reconciliations' });
    const row = table.getByRole('row').filter({ hasText: 'po_console' });
    await poll(() => row.textContent()).toContain('po_console');
    expect(await row.getByLabel('0 mismatched').count()).toBe(1);
    expect(await row.getByLabel('1 unknown').count()).toBe(1);
    expect(await row.getByLabel('1 missing').count()).toBe(1);
    // the new reconciliation opens with its items
    const items = page.getByRole('table', { name: /^Unmatched items of/ });
    await poll(() => items.getByRole('row').count()).toBe(3);
    expect(await items.textContent()).toContain('txn_stranger');
    expect(await items.textContent()).toContain('pi_stranger');
    expect(await items.textContent()).toContain(left.id);
    await shot(page, 'finance-reconciliations');
    expect(errors).toEqual([]);
  });

  it('rolls the liability forward by month: table, chart, breakage and the CSV downloads', async () => {
    // The three purchases of the test before (this database's only money): 30.00 usd bought this month.
    const { page, errors } = await openConsoleAt('Finance');
    const month = new Date().toISOString().slice(0, 7);
    const table = page.getByRole('table', { name: 'Roll-forward by month, USD' });
    const current = table.getByRole('row').filter({ hasText: month });
    await poll(() => current.textContent()).toContain('30.00');
    const cells = await current.getByRole('cell').allTextContents();
    // month, opening, purchased, sold, recognized, expired, …, closing, disputed
    expect([cells[0], cells[1], cells[2], cells[4], cells[5], cells[11]]).toEqual([
      month,
      '0.00',
      '30.00',
      '0.00',
      '0.00',
      '30.00',
    ]);
    expect(await table.getByRole('row').count()).toBe(1 + 6 + 1); // header, six months, total
    expect(await page.getByLabel('Closing liability', { exact: true }).textContent()).toBe('30.00 USD');
    expect(await page.getByLabel('Breakage', { exact: true }).textContent()).toBe('0.00 USD');
    expect(await page.getByRole('img', { name: /^Closing liability and recognized revenue/ }).count()).toBe(1);
    await shot(page, 'finance-rollforward');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download roll-forward CSV' }).click(),
    ]);
    const csv = join(workDir, 'rollforward.csv');
    await download.saveAs(csv);
    expect(readFileSync(csv, 'utf8')).toContain('30.00');
    const [liability] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download liability CSV' }).click(),
    ]);
    expect(liability.suggestedFilename()).toBe('liability-usd-now.csv');

    await page.getByLabel('Currency').fill('eur');
    await page.getByLabel('Currency').press('Enter');
    // No money in eur here: the page says so (or shows a table of zeros), and nothing of usd stays.
    const eur = page.getByRole('table', { name: 'Roll-forward by month, EUR' }).or(page.getByText('No money in EUR'));
    await poll(() => eur.count()).toBe(1);
    expect(await page.getByRole('table', { name: 'Roll-forward by month, USD' }).count()).toBe(0);
    expect(errors).toEqual([]);
  });
});

async function openConsoleAt(path: string) {
  const opened = await served.open();
  await served.signIn(opened.page, token({ sub: adminId, role: 'admin' }));
  await opened.page.getByRole('navigation').getByRole('link', { name: path }).click();
  await poll(() => opened.page.getByRole('heading', { level: 1 }).textContent()).toBe(path);
  return opened;
}
