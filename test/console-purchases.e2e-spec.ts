import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';

/**
 * The console's Purchases tab in a real browser (Debian's chromium, playwright-core), as
 * test/console.e2e-spec.ts drives the rest: status, refundable quote, an admin's Refund. Only
 * 127.0.0.1 is reachable from the page. Screenshots land in test-results/console/.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) console.warn(`console purchases test skipped: no Chromium at ${CHROMIUM}`);
const SHOTS = process.env.CONSOLE_SHOTS_DIR ?? join(import.meta.dirname, '..', 'test-results', 'console');
const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 15_000 });

let t: TestApp;
let browser: Browser;
let baseUrl: string;
let consoleDir: string;
const adminId = uniqueId('padmin');
const supervisorId = uniqueId('psuper');
const buyerId = uniqueId('pbuyer');

describe.skipIf(!available)('the Purchases tab in a browser', () => {
  let paidId: string;

  beforeAll(async () => {
    consoleDir = mkdtempSync(join(tmpdir(), 'console-'));
    execFileSync(
      process.execPath,
      [
        join('node_modules', 'vite', 'bin', 'vite.js'),
        'build',
        '--config',
        'console/vite.config.ts',
        '--outDir',
        consoleDir,
        '--logLevel',
        'warn',
      ],
      { stdio: 'inherit' },
    );
    mkdirSync(SHOTS, { recursive: true });
    t = await startTestApp({ CONSOLE_DIR: consoleDir });
    await t.app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
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
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    if (consoleDir) rmSync(consoleDir, { recursive: true, force: true });
  });

  it('shows status and refundable, and refunds once (admin)', async () => {
    const { page, errors, keys } = await openConsole();
    await signIn(page, token({ sub: adminId, role: 'admin' }));
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
    const refundKeys = keys.filter((k) => k.path === `/api/purchases/${paidId}/refunds`).map((k) => k.key);
    expect(new Set(refundKeys).size).toBe(1);
    const refunds = await t.db.query(`SELECT credits, amount FROM purchase_refunds WHERE purchase_id = $1`, [paidId]);
    expect(refunds.rows).toEqual([{ credits: 100, amount: '1.00' }]);
    expect(errors).toEqual([]);
  });

  it('shows a supervisor no Refund action', async () => {
    const { page, errors } = await openConsole();
    await signIn(page, token({ sub: supervisorId, role: 'supervisor' }));
    await page.goto(`${baseUrl}/admin/users/${buyerId}`);
    await page.getByRole('tab', { name: 'Purchases' }).click();
    const table = page.getByRole('table', { name: 'Purchases' });
    await poll(() => table.getByRole('row').filter({ hasText: 'pi_console' }).textContent()).toContain('500 (5.00)');
    expect(await table.getByRole('button', { name: 'Refund' }).count()).toBe(0);
    expect(errors).toEqual([]);
  });
});

async function openConsole() {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  const keys: { path: string; key: string | undefined }[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (request.method() === 'POST') keys.push({ path: url.pathname, key: request.headers()['idempotency-key'] });
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
  return { page, context, errors, keys };
}

async function signIn(page: Page, accessToken: string): Promise<void> {
  await page.goto(`${baseUrl}/admin/`);
  await page.getByLabel('Access token').fill(accessToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation').getByRole('link', { name: 'Overview' }).waitFor();
}

async function shot(page: Page, name: string): Promise<void> {
  await poll(() => page.evaluate(() => document.getAnimations().length)).toBe(0);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}
