import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, type TestApp, token, uniqueId } from './support/app.js';
import { chromiumAvailable, poll, ServedConsole, shot } from './support/console-browser.js';

/** The console's Erase action on a user's page, in a real browser: reason, confirmation, the erasure. */
let served: ServedConsole;
let t: TestApp;
let baseUrl: string;
const adminId = uniqueId('eradmin');
const supervisorId = uniqueId('ersuper');
const userId = uniqueId('eruser');
const email = `${userId}@example.com`;

describe.skipIf(!chromiumAvailable)('the Erase action on a user’s page', () => {
  beforeAll(async () => {
    served = await ServedConsole.onOwnDatabase('console_erasure', { JOBS_ENABLED: 'false' });
    ({ t, baseUrl } = served);
    const admin = bearer(token({ sub: adminId, role: 'admin' }));
    await t.http.get('/api/users/me').set(admin).expect(200);
    await t.http
      .get('/api/users/me')
      .set(bearer(token({ sub: supervisorId, role: 'supervisor' })))
      .expect(200);
    await t.http
      .get('/api/users/me')
      .set(bearer(token({ sub: userId, email, username: `${userId}-name` })))
      .expect(200);
    await t.http.post('/api/credits/allocate').set(admin).send({ userId, credits: 120 }).expect(201);
  }, 120_000);
  afterAll(async () => {
    await served?.close();
  });

  it('an admin erases with a reason and the user id typed again; the page then shows no email', async () => {
    const { page, errors } = await served.open();
    await served.signIn(page, token({ sub: adminId, role: 'admin' }));
    await page.goto(`${baseUrl}/admin/users/${userId}`);
    await poll(() => page.getByText(email).count()).toBe(1);
    await page.getByRole('button', { name: 'Erase', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: `Erase ${userId}` });
    const submit = dialog.getByRole('button', { name: `Erase ${userId}` });
    await dialog.getByLabel('Reason').fill('Asked by the person');
    expect(await submit.isDisabled()).toBe(true);
    await dialog.getByLabel(`Type ${userId} to confirm`).fill('someone-else');
    expect(await submit.isDisabled()).toBe(true);
    await dialog.getByLabel(`Type ${userId} to confirm`).fill(userId);
    expect(await submit.isDisabled()).toBe(false);
    await shot(page, 'user-erase');
    await submit.click();
    await poll(() => dialog.count()).toBe(0);
    await poll(() => page.getByRole('button', { name: 'Erased' }).isDisabled()).toBe(true);
    await poll(() => page.getByText('no email').count()).toBe(1);
    expect(await page.getByText(email).count()).toBe(0);
    // The money stays.
    expect(await page.getByLabel('Available credits').textContent()).toBe('120');
    await shot(page, 'user-erased');
    const { rows } = await served.t.db.query(
      `SELECT email, username, erased_at FROM user_accounts WHERE user_id = $1`,
      [userId],
    );
    expect(rows[0]).toMatchObject({ email: null, username: null, erased_at: expect.any(Date) });
    const audit = await t.http
      .get('/api/audit?action=user.erase')
      .set(bearer(token({ sub: adminId, role: 'admin' })))
      .expect(200);
    expect(audit.body.items[0]).toMatchObject({ actor: { userId: adminId }, after: { reason: 'Asked by the person' } });
    expect(errors).toEqual([]);
  });

  it('a supervisor sees no Erase action', async () => {
    const { page, errors } = await served.open();
    await served.signIn(page, token({ sub: supervisorId, role: 'supervisor' }));
    await page.goto(`${baseUrl}/admin/users/${userId}`);
    await poll(() => page.getByLabel('Available credits').textContent()).toBe('120');
    expect(await page.getByRole('button', { name: /^Eras/ }).count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
