import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, type TestApp, token, uniqueId } from './support/app.js';
import { chromiumAvailable, CONSOLE_SHOTS, keysSent, poll, ServedConsole, shot } from './support/console-browser.js';
import { buildPortal, openPage, PORTAL_SHOTS, saveShot } from './support/portal-browser.js';

/**
 * Corrections and re-rates in the pages (docs/console.md, docs/portal.md): an admin corrects a record
 * on a user's Usage tab (a supervisor sees no Correct), the portal shows its net and its correction;
 * an admin applies a simulation as a re-rate and watches it complete. Screenshots land in
 * test-results/console/ (corrections-*.png) and are copied to /tmp/console-corrections-*.png.
 */

let served: ServedConsole;
let t: TestApp;
let baseUrl: string;
let portalDir: string;
const adminId = uniqueId('cadmin');
const supervisorId = uniqueId('csuper');
const userId = uniqueId('cuser');
const rerateUserId = uniqueId('cruser');
const model = uniqueId('openai.console-corr');
const admin = () => token({ sub: adminId, role: 'admin' });
const supervisor = () => token({ sub: supervisorId, role: 'supervisor' });

/** The console's screenshot, and a copy under /tmp to look at (`subject`: see shot()). */
async function snap(page: Page, name: string, subject?: Locator): Promise<void> {
  await shot(page, `corrections-${name}`, { subject });
  copyFileSync(join(CONSOLE_SHOTS, `corrections-${name}.png`), `/tmp/console-corrections-${name}.png`);
}

/** The text of each body row's cell under a column header. */
async function column(table: ReturnType<Page['getByRole']>, header: string): Promise<Array<string | null>> {
  const i = (await table.getByRole('columnheader').allTextContents()).indexOf(header);
  expect(i).toBeGreaterThanOrEqual(0);
  return table
    .getByRole('row')
    .evaluateAll((rows, n) => rows.slice(1).map((r) => r.querySelectorAll(':scope > td')[n]?.textContent ?? null), i);
}

describe.skipIf(!chromiumAvailable)('Console and portal: corrections and re-rates in a browser', () => {
  let recordId: string;

  beforeAll(async () => {
    portalDir = await buildPortal();
    mkdirSync(PORTAL_SHOTS, { recursive: true });
    // A database of its own: the Pricing page lists every price rule of its database, and on the
    // shared one its loads and renders grew with the rules the spec files before this one had made.
    served = await ServedConsole.onOwnDatabase('console_corrections', { PORTAL_DIR: portalDir }, 'console-corr-');
    ({ t, baseUrl } = served);
    const as = bearer(admin());
    await t.http.get('/api/users/me').set(as).expect(200);
    await t.http.get('/api/users/me').set(bearer(supervisor())).expect(200);
    await t.http.post('/api/pricing').set(as).send({ modelId: model, pricePer1kTokens: '2' }).expect(201);
    for (const id of [userId, rerateUserId]) {
      await t.http
        .post('/api/credits/allocate')
        .set(as)
        .send({ userId: id, credits: 1000, email: `${id}@example.com`, username: id })
        .expect(201);
    }
    // 5,000 tokens at 2 per 1,000: 10 credits.
    const record = await t.http
      .post('/api/usage/record')
      .set(as)
      .send({ userId, service: 'chat', operation: 'reply', modelId: model, inputTokens: 5000 })
      .expect(201);
    expect(record.body.credits).toBe(10);
    recordId = record.body.id as string;
  }, 120_000);
  afterAll(async () => {
    await served?.close();
    rmSync(portalDir, { recursive: true, force: true });
  });

  it('lets an admin correct a record on the Usage tab: the correction listed, the net changed', async () => {
    const { page, errors, context, sent } = await served.open();
    await served.signIn(page, admin());
    await page.goto(`${baseUrl}/admin/users/${userId}`);
    await page.getByRole('tab', { name: 'Usage' }).click();
    const usage = page.getByRole('table', { name: 'Usage records' });
    await poll(() => usage.getByRole('row').count()).toBe(2);
    expect(await column(usage, 'Net')).toEqual(['10']);
    await usage.getByRole('button', { name: 'Correct' }).click();
    const dialog = page.getByRole('dialog', { name: 'Correct a record of 10 credits' });
    const submit = dialog.getByRole('button', { name: 'Correct' });
    // The net to start from, and no correction without a reason.
    expect(await dialog.getByLabel('What it should have cost (credits)').inputValue()).toBe('10');
    expect(await submit.isDisabled()).toBe(true);
    await dialog.getByLabel('What it should have cost (credits)').fill('4');
    await dialog.getByLabel('Reason').fill('Token count doubled by the chat backend');
    await snap(page, 'dialog');
    await submit.click();
    await dialog.waitFor({ state: 'hidden' });
    await poll(() => column(usage, 'Net')).toEqual(['4']);
    expect(await column(usage, 'Credits')).toEqual(['10']);
    await usage.getByRole('button', { name: 'Corrections (1)' }).click();
    const list = page.getByRole('table', { name: 'Corrections' });
    await poll(() => list.getByRole('row').count()).toBe(2);
    expect(await page.getByText('Charged 10 when written; 4 now').count()).toBe(1);
    const [, correctionRow] = await list.getByRole('row').allTextContents();
    expect(correctionRow).toContain('-6');
    await snap(page, 'usage');

    // The API agrees: one correction, −6, the key of the dialog's opening as its id.
    const keys = keysSent(sent, 'POST', `/api/usage/records/${recordId}/corrections`);
    expect(keys).toHaveLength(1);
    const view = await t.http.get(`/api/usage/records?userId=${userId}`).set(bearer(admin())).expect(200);
    expect(view.body.items[0]).toMatchObject({
      id: recordId,
      credits: 10,
      netCredits: 4,
      corrections: [{ correctionId: `console-${keys[0]}`, delta: -6 }],
    });
    expect(correctionRow).toContain(`console-${keys[0]}`);
    const stats = await t.http.get(`/api/usage/stats/${userId}`).set(bearer(admin())).expect(200);
    expect(stats.body.totalCredits).toBe(4);
    await poll(() => page.getByText('Last 30 UTC days: 4 credits in 1 records').count()).toBe(1);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows a supervisor the net and corrections but no Correct', async () => {
    const { page, errors, context } = await served.open();
    await served.signIn(page, supervisor());
    await page.goto(`${baseUrl}/admin/users/${userId}`);
    await page.getByRole('tab', { name: 'Usage' }).click();
    const usage = page.getByRole('table', { name: 'Usage records' });
    await poll(() => column(usage, 'Net')).toEqual(['4']);
    await usage.getByRole('button', { name: 'Corrections (1)' }).waitFor();
    expect(await usage.getByRole('button', { name: 'Correct', exact: true }).count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows the net and the correction on the portal’s usage tab', async () => {
    const session = await t.http.post('/api/portal/sessions').set(bearer(admin())).send({ userId }).expect(201);
    const { page, context, errors } = await openPage(served.browser, { width: 1280, scheme: 'light' });
    await page.goto(`${baseUrl}/portal#token=${session.body.token}`);
    await page.getByRole('tab', { name: 'Usage' }).click();
    const region = page.getByRole('region', { name: 'Usage records' });
    await poll(() => region.locator('tbody tr').count()).toBe(1);
    const cell = region.locator('tbody tr td.num');
    const text = (await cell.textContent()) ?? '';
    expect(text.startsWith('4')).toBe(true);
    expect(text).toContain('10 charged, -6 corrected');
    const path = join(PORTAL_SHOTS, 'corrections-usage.png');
    await saveShot(page, path);
    copyFileSync(path, '/tmp/console-corrections-portal.png');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('applies a simulation as a re-rate and shows its progress to completion', async () => {
    // Two records of 1,000 and 3,000 tokens: 2 and 6 credits; at 3 per 1,000 they cost 3 and 9.
    for (const inputTokens of [1000, 3000]) {
      await t.http
        .post('/api/usage/record')
        .set(bearer(admin()))
        .send({ userId: rerateUserId, service: 'chat', operation: 'reply', modelId: model, inputTokens })
        .expect(201);
    }
    const { page, errors, context, sent } = await served.open();
    await served.signIn(page, admin());
    await page.getByRole('navigation').getByRole('link', { name: 'Pricing' }).click();
    await page.getByLabel('Account (optional)').fill(rerateUserId);
    await page.getByLabel('Rules to simulate').fill(JSON.stringify([{ modelId: model, pricePer1kTokens: '3' }]));
    await page.getByRole('button', { name: 'Run simulation' }).click();
    await poll(() => page.getByLabel('Difference', { exact: true }).textContent()).toBe('4');
    expect(await page.getByLabel('Billed credits').textContent()).toBe('8');
    await page.getByRole('button', { name: 'Apply as re-rate' }).click();
    const dialog = page.getByRole('dialog', { name: 'Apply as re-rate' });
    const apply = dialog.getByRole('button', { name: 'Apply re-rate' });
    expect(await apply.isDisabled()).toBe(true);
    await dialog.getByLabel('Reason').fill('Rule price was a typo: 2 instead of 3');
    await snap(page, 'rerate-dialog', dialog);
    await apply.click();
    await dialog.waitFor({ state: 'hidden' });

    const progress = page.getByRole('region', { name: 'Re-rate progress' });
    await poll(() => progress.textContent()).toContain('completed');
    expect(await progress.getByLabel('Records examined').textContent()).toBe('2');
    expect(await progress.getByLabel('Records corrected').textContent()).toBe('2');
    expect(await progress.getByLabel('Delta (credits)').textContent()).toBe('4');

    // The API agrees: the body simulated, the key of the dialog's opening, the same figures.
    const keys = keysSent(sent, 'POST', '/api/pricing/rerates');
    expect(keys).toHaveLength(1);
    const listed = await t.http.get('/api/pricing/rerates').set(bearer(admin())).expect(200);
    const rerate = (listed.body.items as Array<Record<string, unknown>>).find(
      (r) => r.rerateId === `console-${keys[0]}`,
    );
    expect(rerate).toMatchObject({
      status: 'completed',
      records: 2,
      corrected: 2,
      delta: 4,
      userId: rerateUserId,
      reason: 'Rule price was a typo: 2 instead of 3',
      createdBy: adminId,
    });
    expect(
      sent.filter((s) => s.method === 'GET' && s.path === `/api/pricing/rerates/${String(rerate?.id)}`).length,
    ).toBeGreaterThan(0);
    const recent = page.getByRole('table', { name: 'Recent re-rates' });
    const row = recent.getByRole('row').filter({ hasText: `console-${keys[0]}` });
    await poll(() => row.textContent()).toContain('completed');
    expect(await column(recent, 'Delta')).toContain('+4');
    // Simulated again, the same body differs by nothing.
    await page.getByRole('button', { name: 'Run simulation' }).click();
    await poll(() => page.getByLabel('Billed credits').textContent()).toBe('12');
    expect(await page.getByLabel('Difference', { exact: true }).textContent()).toBe('0');
    await snap(page, 'rerate', progress);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('offers a supervisor no Apply as re-rate, but the list of re-rates', async () => {
    const { page, errors, context } = await served.open();
    await served.signIn(page, supervisor());
    await page.getByRole('navigation').getByRole('link', { name: 'Pricing' }).click();
    await page.getByLabel('Account (optional)').fill(rerateUserId);
    await page.getByLabel('Rules to simulate').fill(JSON.stringify([{ modelId: model, pricePer1kTokens: '3' }]));
    await page.getByRole('button', { name: 'Run simulation' }).click();
    await poll(() => page.getByLabel('Billed credits').textContent()).toBe('12');
    expect(await page.getByRole('button', { name: 'Apply as re-rate' }).count()).toBe(0);
    await poll(() => page.getByRole('table', { name: 'Recent re-rates' }).getByRole('row').count()).toBeGreaterThan(1);
    expect(errors).toEqual([]);
    await context.close();
  });
});
