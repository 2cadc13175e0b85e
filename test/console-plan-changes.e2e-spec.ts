import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, type TestApp, token, uniqueId } from './support/app.js';
import { chromiumAvailable, poll, ServedConsole, shot } from './support/console-browser.js';

/**
 * The console's plan control in a real browser (as test/console.e2e-spec.ts): a change's options,
 * its preview asked of the API before it is made, and a change scheduled for the period's end shown
 * on the user's Plan tab and on an org's, where a supervisor who is a member sees no control. Screenshots land in test-results/console/ (plan-change-*.png).
 */
let served: ServedConsole;
let t: TestApp;
let baseUrl: string;
const adminId = uniqueId('pcadmin');
const userId = uniqueId('pcuser');
const supervisorId = uniqueId('pcsuper');
const orgId = uniqueId('pcorg').toLowerCase();
const admin = () => token({ sub: adminId, role: 'admin' });
const free = uniqueId('pc-free').toLowerCase();
const pro = uniqueId('pc-pro').toLowerCase();

describe.skipIf(!chromiumAvailable)('Console: plan changes in a browser', () => {
  beforeAll(async () => {
    served = await ServedConsole.onOwnDatabase('console_plan_changes', {}, 'console-plan-changes-');
    ({ t, baseUrl } = served);
    for (const sub of [adminId, userId, supervisorId]) {
      const role = sub === adminId ? 'admin' : sub === supervisorId ? 'supervisor' : 'user';
      await t.http
        .get('/api/users/me')
        .set(bearer(token({ sub, role })))
        .expect(200);
    }
    for (const [id, name, credits] of [
      [free, 'Console Free', 100],
      [pro, 'Console Pro', 5000],
    ] as const)
      await t.http.post('/api/plans').set(bearer(admin())).send({ id, name, credits, period: 'day' }).expect(201);
    await t.http.put(`/api/users/${userId}/subscription`).set(bearer(admin())).send({ planId: free }).expect(200);
    await t.http
      .post('/api/orgs')
      .set(bearer(admin()))
      .send({ orgId, name: 'Console Plan Org', ownerUserId: supervisorId })
      .expect(201);
    await t.http.put(`/api/orgs/${orgId}/subscription`).set(bearer(admin())).send({ planId: free }).expect(200);
  }, 120_000);
  afterAll(async () => {
    await served?.close();
  });

  it('previews a change, then schedules it for the period’s end and shows it', async () => {
    const { page, errors } = await served.open();
    await served.signIn(page, admin());
    await page.goto(`${baseUrl}/admin/users/${userId}`);
    await page.getByRole('tab', { name: 'Plan' }).click();
    const panel = page.getByRole('tabpanel');
    await panel.getByText(`Plan ${free}, period`).waitFor();
    await panel.getByRole('button', { name: 'Change plan' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel(/^Plan/).click();
    await page.getByRole('option', { name: /Console Pro/ }).click();

    // Now, the difference: Pro's 5,000 less Free's 100 granted today.
    await dialog.getByRole('button', { name: 'Preview' }).click();
    await poll(() => dialog.getByLabel('Preview').textContent()).toMatch(/^Grants 4,900 credits now/);
    await shot(page, 'plan-change-preview-now');

    await dialog.getByLabel(/^When/).click();
    await page.getByRole('option', { name: 'At the end of the period' }).click();
    await poll(() => dialog.getByLabel('Preview').count()).toBe(0);
    await dialog.getByRole('button', { name: 'Preview' }).click();
    await poll(() => dialog.getByLabel('Preview').textContent()).toMatch(/^Grants 0 credits now/);
    // Nothing was written by either preview.
    const before = await t.http.get(`/api/users/${userId}/subscription`).set(bearer(admin())).expect(200);
    expect(before.body).toMatchObject({ planId: free, scheduledChange: null });

    await dialog.getByRole('button', { name: 'Subscribe' }).click();
    await dialog.waitFor({ state: 'detached' });
    await panel.getByText(`Scheduled change: plan ${pro} from`).waitFor();
    await shot(page, 'plan-change-scheduled');
    const after = await t.http.get(`/api/users/${userId}/subscription`).set(bearer(admin())).expect(200);
    expect(after.body).toMatchObject({
      planId: free,
      scheduledChange: { planId: pro, effectiveAt: before.body.currentPeriodEnd },
    });
    expect(errors).toEqual([]);
  }, 120_000);

  it('changes an org’s plan with the same control, scheduled for the period’s end', async () => {
    const { page, errors } = await served.open();
    await page.setViewportSize({ width: 1280, height: 900 });
    await served.signIn(page, admin());
    await page.goto(`${baseUrl}/admin/orgs/${orgId}`);
    await page.getByRole('tab', { name: 'Plan' }).click();
    const panel = page.getByRole('tabpanel');
    await panel.getByText(`Plan ${free}, period`).waitFor();
    await panel.getByRole('button', { name: 'Change plan' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel(/^Plan/).click();
    await page.getByRole('option', { name: /Console Pro/ }).click();
    await dialog.getByRole('button', { name: 'Preview' }).click();
    await poll(() => dialog.getByLabel('Preview').textContent()).toMatch(/^Grants 4,900 credits now/);
    // Full needs a new period: the control sets it, and the preview says what the restart grants.
    await dialog.getByLabel(/^Allowance/).click();
    await page.getByRole('option', { name: 'Full (new period)' }).click();
    expect(await dialog.getByLabel(/^Period/).inputValue()).toBe('Start a new period');
    await dialog.getByRole('button', { name: 'Preview' }).click();
    await poll(() => dialog.getByLabel('Preview').textContent()).toMatch(/^Grants 5,000 credits now/);
    await shot(page, 'plan-change-org-preview');
    const before = await t.http.get(`/api/orgs/${orgId}/subscription`).set(bearer(admin())).expect(200);
    expect(before.body).toMatchObject({ planId: free, scheduledChange: null });

    await dialog.getByLabel(/^Allowance/).click();
    await page.getByRole('option', { name: 'The difference' }).click();
    await dialog.getByLabel(/^Period/).click();
    await page.getByRole('option', { name: 'Keep the period' }).click();
    await dialog.getByLabel(/^When/).click();
    await page.getByRole('option', { name: 'At the end of the period' }).click();
    await dialog.getByRole('button', { name: 'Subscribe' }).click();
    await dialog.waitFor({ state: 'detached' });
    await panel.getByText(`Scheduled change: plan ${pro} from`).waitFor();
    for (const width of [1280, 375]) {
      await page.setViewportSize({ width, height: 900 });
      await shot(page, `plan-change-org-scheduled-${width}`);
    }
    const after = await t.http.get(`/api/orgs/${orgId}/subscription`).set(bearer(admin())).expect(200);
    expect(after.body).toMatchObject({
      planId: free,
      scheduledChange: { planId: pro, effectiveAt: before.body.currentPeriodEnd },
    });
    expect(errors).toEqual([]);
  }, 120_000);

  it('shows a supervisor who is a member of the org its plan but no control', async () => {
    const { page, errors } = await served.open();
    await served.signIn(page, token({ sub: supervisorId, role: 'supervisor' }));
    await page.goto(`${baseUrl}/admin/orgs/${orgId}`);
    await page.getByRole('tab', { name: 'Plan' }).click();
    const panel = page.getByRole('tabpanel');
    await panel.getByText(`Scheduled change: plan ${pro} from`).waitFor();
    expect(await panel.getByRole('button').count()).toBe(0);
    expect(errors).toEqual([]);
  }, 60_000);
});
