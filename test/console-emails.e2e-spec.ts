import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CreditExpiringNoticeJob } from '../src/credits/notices/credit-expiring-notice.job.js';
import { bearer, type TestApp, token, uniqueId } from './support/app.js';
import { passTime } from './support/clock.js';
import { chromiumAvailable, poll, ServedConsole, shot } from './support/console-browser.js';

/**
 * Without SMTP_URL (as a plain `npm start` runs) emails are made and kept, and the console's Emails
 * screen shows them: an expiry notice read in a real browser (Debian's chromium, playwright-core).
 * Screenshots land in test-results/console/.
 */
const DAY = 86_400_000;

let served: ServedConsole;
let t: TestApp;
const adminId = uniqueId('eadmin');
const userId = uniqueId('ereader');

describe.skipIf(!chromiumAvailable)('the Emails screen without SMTP_URL', () => {
  beforeAll(async () => {
    // Its own database: the email worker runs, as in npm start, and makes every email due there.
    served = await ServedConsole.onOwnDatabase('console_emails', { EMAIL_WORKER_ENABLED: 'true' });
    ({ t } = served);
    const admin = bearer(token({ sub: adminId, role: 'admin' }));
    await t.http.get('/api/users/me').set(admin).expect(200);
    await t.http
      .get('/api/users/me')
      .set(bearer(token({ sub: userId, email: `${userId}@example.com`, username: userId })))
      .expect(200);
    await t.http.post('/api/credits/allocate').set(admin).send({ userId, credits: 250, expiryDays: 2 }).expect(201);
    await passTime(t.db, userId, 1.5 * DAY); // 12 hours left: the 24-hour notice
    expect(await t.app.get(CreditExpiringNoticeJob).noticeExpiring()).toBe(1);
  }, 120_000);
  afterAll(async () => {
    await served?.close();
  });

  it('lists the expiry email as kept and shows what it says', async () => {
    const { page, errors } = await served.open();
    await served.signIn(page, token({ sub: adminId, role: 'admin' }));
    await page.getByRole('navigation').getByRole('link', { name: 'Emails' }).click();
    await poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Emails');
    const table = page.getByRole('table', { name: 'Emails' });
    const row = table.getByRole('row').filter({ hasText: `${userId}@example.com` });
    await poll(() => row.textContent()).toContain('kept');
    expect(await row.textContent()).toContain('credits.expiring');
    expect(await row.textContent()).toContain('Accounting: 250 credits expire');
    await row.getByRole('button', { name: /^Read email/ }).click();
    const body = page.getByRole('region', { name: /^Email Accounting: 250 credits expire/ });
    await poll(() => body.textContent()).toContain('in about 1 day');
    expect(await body.textContent()).toContain(`Hello ${userId},`);
    expect(await body.textContent()).toContain('/api/notifications/unsubscribe/');
    await shot(page, 'emails');

    await page.getByLabel('Status').first().click();
    await page.getByRole('option', { name: 'sent' }).click();
    await poll(() => page.url()).toContain('status=sent');
    await poll(() => page.getByText('Nothing here.').count()).toBe(1);
    expect(errors).toEqual([]);
  });
});
