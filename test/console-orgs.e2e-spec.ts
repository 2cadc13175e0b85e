import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, type TestApp, token, uniqueId } from './support/app.js';
import { chromiumAvailable, poll, ServedConsole, shot } from './support/console-browser.js';

/**
 * The console's Organisations screens in a real browser (as test/console.e2e-spec.ts: Debian's
 * chromium, the app serving a fresh build at /admin, only 127.0.0.1 reachable, console errors fail).
 * Screenshots land in test-results/console/ (orgs-*.png).
 */

let served: ServedConsole;
let t: TestApp;
let baseUrl: string;
const adminId = uniqueId('oadmin');
const ownerId = uniqueId('oowner');
const memberId = uniqueId('omember');
const orgId = uniqueId('acme').toLowerCase();
const otherOrgId = uniqueId('globex').toLowerCase();
const admin = () => token({ sub: adminId, role: 'admin' });
const supervisor = () => token({ sub: uniqueId('osuper'), role: 'supervisor' });

describe.skipIf(!chromiumAvailable)('Console: organisations in a browser', () => {
  beforeAll(async () => {
    // Its own database: the list pages orgs oldest first, and the orgs other files make in a shared one
    // would push this file's past the first page.
    served = await ServedConsole.onOwnDatabase('console_orgs', {}, 'console-orgs-');
    ({ t, baseUrl } = served);
    for (const sub of [adminId, ownerId, memberId]) {
      await t.http
        .get('/api/users/me')
        .set(bearer(token({ sub, role: sub === adminId ? 'admin' : 'user' })))
        .expect(200);
    }
    await t.http
      .post('/api/orgs')
      .set(bearer(admin()))
      .send({ orgId, name: 'Acme Research', ownerUserId: ownerId })
      .expect(201);
    await t.http
      .post('/api/orgs')
      .set(bearer(admin()))
      .send({ orgId: otherOrgId, name: 'Globex', ownerUserId: ownerId })
      .expect(201);
    await t.http
      .put(`/api/orgs/${orgId}/members/${memberId}`)
      .set(bearer(admin()))
      .send({ role: 'member' })
      .expect(200);
    // Usage charged to the org (the rows org metering writes; metering with orgId is another branch's).
    await t.db.query(
      `INSERT INTO usage_records (user_id, org_id, service, operation, credits, model_id, "timestamp", account_id)
       VALUES ($2, $1, 'chat', 'completion', 30, 'm1', now() - interval '2 hours', (SELECT account_id FROM accounts WHERE org_id = $1::varchar)),
              ($2, $1, 'chat', 'completion', 12, 'm1', now() - interval '1 hour', (SELECT account_id FROM accounts WHERE org_id = $1::varchar)),
              ($3, $1, 'embed', 'vector', 8, 'm2', now() - interval '1 hour', (SELECT account_id FROM accounts WHERE org_id = $1::varchar))`,
      [orgId, memberId, ownerId],
    );
  }, 120_000);
  afterAll(async () => {
    await served?.close();
  });

  it('lists and searches orgs, grants to one, sets a member limit, transfers to a user', async () => {
    const { page, errors } = await served.open();
    await served.signIn(page, admin());
    await page.getByRole('navigation').getByRole('link', { name: 'Organisations' }).click();
    await page.getByRole('heading', { level: 1, name: 'Organisations' }).waitFor();
    await page.getByRole('link', { name: otherOrgId }).waitFor();
    await page.getByLabel('Search organisations').fill('Acme Res');
    await poll(() => new URL(page.url()).searchParams.get('search')).toBe('Acme Res');
    await poll(() => page.getByRole('link', { name: otherOrgId }).count()).toBe(0);
    const listed = page.getByRole('table', { name: 'Organisations' }).getByRole('row').filter({ hasText: orgId });
    expect(await listed.textContent()).toContain('Acme Research');
    await shot(page, 'orgs-list');

    await page.getByRole('link', { name: orgId }).click();
    await poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe(orgId);
    await poll(() => page.getByLabel('Available credits').textContent()).toBe('0');
    const members = page.getByRole('table', { name: 'Members' });
    await members.getByRole('row').filter({ hasText: memberId }).waitFor();
    expect(await members.getByRole('row').filter({ hasText: ownerId }).textContent()).toContain('owner');

    // Grant: the pool's figures change.
    await page.getByRole('button', { name: 'Grant credits' }).click();
    const grant = page.getByRole('dialog');
    expect(await grant.getByRole('heading').textContent()).toBe(`Grant credits to ${orgId}`);
    await grant.getByLabel('Credits').fill('1000');
    await grant.getByLabel('Notes').fill('December budget');
    await shot(page, 'orgs-grant-dialog');
    await grant.getByRole('button', { name: 'Grant' }).click();
    await grant.waitFor({ state: 'detached' });
    await poll(() => page.getByLabel('Available credits').textContent()).toBe('1,000');
    const pool = await t.http.get(`/api/orgs/${orgId}`).set(bearer(admin())).expect(200);
    expect(pool.body.totalCredits).toBe(1000);

    // A member's limit: the members table shows it, and what they may spend now follows it.
    const memberRow = members.getByRole('row').filter({ hasText: memberId });
    expect(await memberRow.textContent()).toContain('none');
    await memberRow.getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('dialog');
    await edit.getByLabel('Spend limit (credits)').fill('250');
    await edit.getByLabel('Limit period (UTC)').click();
    await page.getByRole('option', { name: 'day' }).click();
    await shot(page, 'orgs-member-dialog');
    await edit.getByRole('button', { name: 'Save member' }).click();
    await edit.waitFor({ state: 'detached' });
    await poll(() => memberRow.textContent()).toContain('250 / day');
    expect(await memberRow.textContent()).toContain('250 (member)'); // the limit binds, not the pool of 1,000
    const memberView = await t.http.get(`/api/orgs/${orgId}/members/${memberId}`).set(bearer(admin())).expect(200);
    expect(memberView.body.spendLimit).toEqual({ credits: 250, period: 'day' });
    await shot(page, 'orgs-org');

    // Transfer from the org to a user: the pool goes down, the user's balance up.
    await page.getByRole('button', { name: 'Transfer credits' }).click();
    const transfer = page.getByRole('dialog');
    await transfer.getByLabel('User id').fill(memberId);
    await transfer.getByLabel('Credits').fill('300');
    await transfer.getByLabel('Reason').fill('Conference demo');
    await shot(page, 'orgs-transfer-dialog');
    await transfer.getByRole('button', { name: 'Transfer' }).click();
    await transfer.waitFor({ state: 'detached' });
    await poll(() => page.getByLabel('Available credits').textContent()).toBe('700');
    const balance = await t.http.get(`/api/credits/balance/${memberId}`).set(bearer(admin())).expect(200);
    expect(balance.body.totalCredits).toBe(300);
    await page.getByRole('tab', { name: 'Transfers' }).click();
    const moved = page
      .getByRole('table', { name: 'Transfers' })
      .getByRole('row')
      .filter({ hasText: 'Conference demo' });
    await poll(() => moved.textContent()).toContain(`user ${memberId}`);
    expect(await moved.textContent()).toContain('300');
    await shot(page, 'orgs-transfers');

    // Usage by member, most first, over the last 30 UTC days.
    await page.getByRole('tab', { name: 'Usage by member' }).click();
    const usage = page.getByRole('table', { name: 'Usage by member' });
    await poll(() => usage.getByRole('row').allTextContents()).toEqual([
      'MemberCreditsShare',
      `${memberId}4284 %`,
      `${ownerId}816 %`,
    ]);
    await shot(page, 'orgs-usage');

    // And back into the org from the user's page, the other way round.
    await page.goto(`${baseUrl}/admin/users/${memberId}`);
    await poll(() => page.getByLabel('Available credits').textContent()).toBe('300');
    await page.getByRole('button', { name: 'Transfer credits' }).click();
    const back = page.getByRole('dialog');
    await back.getByRole('radio', { name: `Out of ${memberId}` }).check({ force: true });
    await back.getByLabel('Organisation id').fill(orgId);
    await back.getByLabel('Credits').fill('50');
    await back.getByRole('button', { name: 'Transfer' }).click();
    await back.waitFor({ state: 'detached' });
    await poll(() => page.getByLabel('Available credits').textContent()).toBe('250');
    const after = await t.http.get(`/api/orgs/${orgId}`).set(bearer(admin())).expect(200);
    expect(after.body.totalCredits).toBe(750);

    // Too many credits: the dialog says why and nothing moves.
    await page.getByRole('button', { name: 'Transfer credits' }).click();
    const short = page.getByRole('dialog');
    await short.getByLabel('Organisation id').fill(orgId);
    await short.getByLabel('Credits').fill('5000');
    await short.getByRole('button', { name: 'Transfer' }).click();
    await poll(() => short.getByRole('alert').textContent()).toBe('Insufficient credits: 5,000 needed, 250 available');
    await shot(page, 'orgs-transfer-refused');
    await short.getByRole('button', { name: 'Cancel' }).click();
    expect(await page.getByLabel('Available credits').textContent()).toBe('250');

    // The org's allocations: the grant, less the 300 that left; the 50 that came back, voided.
    await page.goto(`${baseUrl}/admin/orgs/${orgId}`);
    await page.getByRole('tab', { name: 'Allocations' }).click();
    const allocations = page.getByRole('table', { name: 'Allocations' });
    const budget = allocations.getByRole('row').filter({ hasText: 'December budget' });
    await poll(() => budget.getByRole('cell').nth(3).textContent()).toBe('700');
    const returned = allocations.getByRole('row').filter({ hasText: 'transfer' });
    expect(await returned.getByRole('cell').nth(3).textContent()).toBe('50');
    await returned.getByRole('button', { name: 'Void' }).click();
    const voiding = page.getByRole('dialog');
    await voiding.getByLabel('Reason').fill('returned by mistake');
    await shot(page, 'orgs-void-dialog');
    await voiding.getByRole('button', { name: 'Void allocation' }).click();
    await voiding.waitFor({ state: 'detached' });
    await poll(() => page.getByLabel('Available credits').textContent()).toBe('700');
    await poll(() => returned.textContent()).toContain('returned by mistake');
    await shot(page, 'orgs-allocations');

    // Add a member (a billing member, no limit), then remove them.
    await page.getByRole('tab', { name: 'Members' }).click();
    await page.getByRole('button', { name: 'Add member' }).click();
    const add = page.getByRole('dialog');
    await add.getByLabel('User id').fill(adminId);
    await add.getByLabel('Role').click();
    await page.getByRole('option', { name: 'billing' }).click();
    await shot(page, 'orgs-add-member-dialog');
    await add.getByRole('button', { name: 'Add member' }).click();
    await add.waitFor({ state: 'detached' });
    const added = page.getByRole('table', { name: 'Members' }).getByRole('row').filter({ hasText: adminId });
    await poll(() => added.textContent()).toContain('billing');
    await added.getByRole('button', { name: 'Remove' }).click();
    const remove = page.getByRole('dialog');
    await shot(page, 'orgs-remove-member-dialog');
    await remove.getByRole('button', { name: 'Remove member' }).click();
    await remove.waitFor({ state: 'detached' });
    await poll(() => added.count()).toBe(0);
    const removed = await t.http.get(`/api/orgs/${orgId}/members?includeRemoved=true`).set(bearer(admin())).expect(200);
    expect(removed.body.items.find((m: { userId: string }) => m.userId === adminId)?.removedAt).toEqual(
      expect.any(String),
    );

    // The browser logs the refused transfer's 402 itself.
    expect(errors.filter((e) => !/status of 402/.test(e))).toEqual([]);
  }, 120_000);

  it('a supervisor sees the org page and its actions, but no Void', async () => {
    await t.http
      .post('/api/credits/allocate')
      .set(bearer(admin()))
      .send({ orgId: otherOrgId, credits: 40, notes: 'for the supervisor' })
      .expect(201);
    const { page, errors } = await served.open();
    await served.signIn(page, supervisor());
    await page.goto(`${baseUrl}/admin/orgs/${otherOrgId}`);
    await poll(() => page.getByLabel('Available credits').textContent()).toBe('40');
    await page.getByRole('tab', { name: 'Allocations' }).click();
    const row = page
      .getByRole('table', { name: 'Allocations' })
      .getByRole('row')
      .filter({ hasText: 'for the supervisor' });
    await row.waitFor();
    expect(await row.getByRole('button').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Grant credits' }).isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Transfer credits' }).isVisible()).toBe(true);
    expect(errors).toEqual([]);
  }, 60_000);

  it('the org page: allocations and purchases by cursor (Load more), ledger, limits and plan tabs', async () => {
    const paged = uniqueId('paged').toLowerCase();
    await t.http
      .post('/api/orgs')
      .set(bearer(admin()))
      .send({ orgId: paged, name: 'Paged', ownerUserId: ownerId })
      .expect(201);
    // One more than a page (50) of allocations, purchases and grant lines.
    for (let i = 1; i <= 51; i++) {
      const purchase = await t.http
        .post('/api/purchases')
        .set(bearer(admin()))
        .send({ orgId: paged, credits: i, amount: '1.00', currency: 'usd', provider: 'manual' })
        .expect(201);
      await t.http.post(`/api/purchases/${purchase.body.id}/paid`).set(bearer(admin())).send({}).expect(200);
    }
    await t.http.put(`/api/orgs/${paged}/limits`).set(bearer(admin())).send({ overdraftLimit: 500 }).expect(200);
    const { page, errors } = await served.open();
    await served.signIn(page, admin());
    await page.goto(`${baseUrl}/admin/orgs/${paged}`);
    await poll(() => page.getByLabel('Available credits').textContent()).toBe('1,326');

    const rowsOf = (name: string) => page.getByRole('table', { name }).getByRole('row');
    await page.getByRole('tab', { name: 'Allocations' }).click();
    await poll(() => rowsOf('Allocations').count()).toBe(51); // a header and the first 50
    await page.getByRole('button', { name: 'Load more' }).click();
    await poll(() => rowsOf('Allocations').count()).toBe(52);
    expect(await page.getByRole('button', { name: 'Load more' }).count()).toBe(0);

    await page.getByRole('tab', { name: 'Purchases' }).click();
    await poll(() => rowsOf('Purchases').count()).toBe(51);
    await page.getByRole('button', { name: 'Load more' }).click();
    await poll(() => rowsOf('Purchases').count()).toBe(52);

    await page.getByRole('tab', { name: 'Ledger' }).click();
    await poll(() => rowsOf('Ledger').count()).toBe(51);
    expect(await rowsOf('Ledger').nth(1).textContent()).toContain('grant');
    await shot(page, 'orgs-ledger');
    await page.getByRole('button', { name: 'Load more' }).click();
    await poll(() => rowsOf('Ledger').count()).toBe(52);

    await page.getByRole('tab', { name: 'Limits' }).click();
    await page.getByText('Overdraft limit: 500').waitFor();
    expect(await page.getByText('Debt: 0').count()).toBe(1);
    await shot(page, 'orgs-limits');

    await page.getByRole('tab', { name: 'Plan' }).click();
    await page.getByText('No plan.').waitFor();
    await t.http
      .post('/api/plans')
      .set(bearer(admin()))
      .send({ id: `${paged}-plan`, name: 'Team', credits: 100, period: 'month' })
      .expect(201);
    await t.http
      .put(`/api/orgs/${paged}/subscription`)
      .set(bearer(admin()))
      .send({ planId: `${paged}-plan` })
      .expect(200);
    await page.getByRole('tab', { name: 'Limits' }).click();
    await page.getByRole('tab', { name: 'Plan' }).click();
    await page.getByText(`Plan ${paged}-plan`, { exact: false }).waitFor();
    await shot(page, 'orgs-plan');
    // "No plan." is the API's 404 for the org's subscription, which the browser logs itself.
    expect(errors.filter((e) => !/status of 404/.test(e))).toEqual([]);
  }, 180_000);
});
