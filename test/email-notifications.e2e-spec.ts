import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CreditExpiringNoticeJob } from '../src/credits/notices/credit-expiring-notice.job.js';
import { EmailWorker } from '../src/notifications/email.worker.js';
import { EMAIL_KINDS } from '../src/notifications/email-kinds.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { freezeClock, passTime } from './support/clock.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';
import { SmtpSink } from './support/smtp-sink.js';

/**
 * Email notifications sent for real to an SMTP server on 127.0.0.1 (smtp-server), each received
 * message parsed (mailparser) and its parts, figures and headers checked.
 */
const admin = () => bearer(token({ sub: 'mail-admin', role: 'admin' }));
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ENV = {
  SMTP_URL: '',
  EMAIL_WORKER_ENABLED: 'false',
  LOW_BALANCE_THRESHOLDS: '50',
  PLATFORM_NAME: 'Acme Chat',
  PUBLIC_URL: 'https://chat.example.com',
};

const header = (mail: ParsedMail, name: string) =>
  mail.headerLines.find((h) => h.key === name.toLowerCase())?.line.replace(/^[^:]+:\s*/, '');

describe('email notifications over SMTP', () => {
  let own: OwnDatabase;
  let sink: SmtpSink;
  let t: TestApp;
  let worker: EmailWorker;

  beforeAll(async () => {
    own = await ownDatabase('email');
    sink = await SmtpSink.start();
    t = await startTestApp({ ...ENV, DATABASE_URL: own.url, SMTP_URL: sink.url });
    worker = t.app.get(EmailWorker);
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
    await own?.drop();
  });

  async function newUser(credits = 0, extra: Record<string, unknown> = {}) {
    const userId = uniqueId('mail');
    const email = `${userId}@example.com`;
    const auth = bearer(token({ sub: userId, email, username: userId }));
    await t.http.get('/api/users/me').set(auth).expect(200);
    let allocationId: string | null = null;
    if (credits > 0) {
      const res = await t.http
        .post('/api/credits/allocate')
        .set(admin())
        .send({ userId, credits, ...extra })
        .expect(201);
      allocationId = res.body.id as string;
    }
    return { userId, email, auth, allocationId };
  }

  const spend = (auth: Record<string, string>, credits: number) =>
    t.http.post('/api/usage/record').set(auth).send({ service: 'chat', operation: 'completion', credits }).expect(201);

  const emailsOf = async (userId: string) =>
    (await t.http.get(`/api/notifications?userId=${userId}`).set(admin()).expect(200)).body.items as Array<
      Record<string, unknown>
    >;

  it('a paid purchase sends a receipt: credits, amount, currency and expiry in both parts', async () => {
    const u = await newUser();
    const created = await t.http
      .post('/api/purchases')
      .set(admin())
      .send({ userId: u.userId, credits: 1500, amount: '19.99', currency: 'usd', provider: 'stripe' })
      .expect(201);
    const paid = await t.http.post(`/api/purchases/${created.body.id}/paid`).set(admin()).send({}).expect(200);
    const { rows } = await t.db.query(`SELECT expires_at FROM credit_allocations WHERE id = $1`, [
      paid.body.allocationId,
    ]);
    const expires = `${(rows[0].expires_at as Date).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

    expect(await worker.runDue()).toBe(1);
    const [mail] = sink.to(u.email);
    expect(mail.subject).toBe('Acme Chat: your receipt for 1500 credits');
    expect(mail.from?.text).toBe('"Acme Chat" <no-reply@localhost>');
    for (const part of [mail.text!, mail.html as string]) {
      expect(part).toContain('Acme Chat');
      expect(part).toContain('1500');
      expect(part).toMatch(/19\.99 USD/i);
      expect(part).toContain(expires);
    }
    expect(mail.html).toContain('<th scope="row"');
    expect(header(mail, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    expect(header(mail, 'List-Unsubscribe')).toMatch(
      /^<https:\/\/chat\.example\.com\/api\/notifications\/unsubscribe\/[\w-]+\.[\w-]{43}>$/,
    );
    const [listed] = await emailsOf(u.userId);
    expect(listed).toMatchObject({
      userId: u.userId,
      kind: 'purchase.paid',
      to: u.email,
      subject: mail.subject,
      status: 'sent',
      attempts: 1,
      lastError: null,
    });
    expect(listed.sentAt).toEqual(expect.any(String));
  });

  it('a low balance: the balance and the threshold; the one-click link turns balance.low off (suppressed next)', async () => {
    const u = await newUser(80);
    await spend(u.auth, 40);
    expect(await worker.runDue()).toBe(1);
    const [mail] = sink.to(u.email);
    expect(mail.subject).toBe('Acme Chat: your balance is below 50 credits');
    expect(mail.text).toContain('is 40 credits, below 50 credits');
    expect(mail.html).toContain('<strong>40 credits</strong>');

    const link = new URL(header(mail, 'List-Unsubscribe')!.slice(1, -1));
    const forged = link.pathname.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    await t.http.post(forged).type('form').send('List-Unsubscribe=One-Click').expect(400);
    const res = await t.http.post(link.pathname).type('form').send('List-Unsubscribe=One-Click').expect(200);
    expect(res.body).toEqual({ userId: u.userId, kind: 'balance.low', email: false });
    const prefs = await t.http.get('/api/notifications/preferences').set(u.auth).expect(200);
    expect(prefs.body.email).toMatchObject({ 'balance.low': false, 'balance.depleted': true });

    // A grant lifts the balance back over 50; the next crossing is another balance.low, not sent.
    await t.http.post('/api/credits/allocate').set(admin()).send({ userId: u.userId, credits: 30 }).expect(201);
    await spend(u.auth, 30);
    expect(await worker.runDue()).toBe(1);
    expect(sink.to(u.email)).toHaveLength(1);
    const items = await emailsOf(u.userId);
    expect(items.map((i) => [i.kind, i.status])).toEqual([
      ['balance.low', 'suppressed'],
      ['balance.low', 'sent'],
    ]);
  });

  it('expiry notices at 168 and 24 hours for one lot; none for a lot used up before its notice', async () => {
    const job = t.app.get(CreditExpiringNoticeJob);
    const u = await newUser(100, { expiryDays: 10 });
    const used = await newUser(30, { expiryDays: 10 });
    await spend(used.auth, 30);
    await worker.runDue(); // the used-up lot's balance.low and balance.depleted

    const notices = async (userId: string) =>
      (
        await t.db.query(
          `SELECT data FROM events WHERE type = 'credits.expiring' AND user_id = $1 ORDER BY created_at`,
          [userId],
        )
      ).rows.map((r: { data: Record<string, unknown> }) => r.data);
    await job.noticeExpiring();
    expect(await notices(u.userId)).toEqual([]);

    for (const who of [u, used]) await passTime(t.db, who.userId, 3.5 * DAY); // 6.5 days left
    await job.noticeExpiring();
    await job.noticeExpiring();
    expect((await notices(u.userId)).map((d) => d.leadHours)).toEqual([168]);
    for (const who of [u, used]) await passTime(t.db, who.userId, 6 * DAY); // 12 hours left
    await job.noticeExpiring();
    await job.noticeExpiring();
    const told = await notices(u.userId);
    expect(told).toEqual([
      expect.objectContaining({ allocationId: u.allocationId, remainingCredits: 100, leadHours: 168 }),
      expect.objectContaining({ allocationId: u.allocationId, remainingCredits: 100, leadHours: 24 }),
    ]);
    expect(await notices(used.userId)).toEqual([]);

    expect(await worker.runDue()).toBe(2);
    const mails = sink.to(u.email);
    expect(mails.map((m) => m.subject)).toEqual([
      `Acme Chat: 100 credits expire ${String(told[0].expiresAt).slice(0, 16).replace('T', ' ')} UTC`,
      `Acme Chat: 100 credits expire ${String(told[1].expiresAt).slice(0, 16).replace('T', ' ')} UTC`,
    ]);
    expect(mails[0].text).toContain('in about 7 days');
    expect(mails[1].text).toContain('in about 1 day');
    expect(mails[1].html).toContain('<strong>100 credits</strong>');
    expect(sink.to(used.email).map((m) => m.subject)).not.toContainEqual(expect.stringContaining('expire'));
  });

  it('a lead time already past when the lot was made sends nothing', async () => {
    const job = t.app.get(CreditExpiringNoticeJob);
    const u = await newUser(10, { expiryDays: 2 });
    await passTime(t.db, u.userId, 1.5 * DAY); // 12 hours left: the 24-hour notice only
    await job.noticeExpiring();
    const { rows } = await t.db.query(
      `SELECT data->>'leadHours' AS lead FROM events WHERE type = 'credits.expiring' AND user_id = $1`,
      [u.userId],
    );
    expect(rows).toEqual([{ lead: '24' }]);
    expect(await worker.runDue()).toBe(1);
  });

  it('the server refusing, then accepting: one email, retried within a minute', async () => {
    const clock = freezeClock(t);
    const u = await newUser(60);
    await spend(u.auth, 20);
    sink.refusing = true;
    clock.advance(1000);
    expect(await worker.runDue()).toBe(1);
    expect(sink.refusals).toBe(1);
    const [failed] = await emailsOf(u.userId);
    expect(failed).toMatchObject({ status: 'pending', attempts: 1, sentAt: null });
    expect(failed.lastError).toMatch(/451/);
    sink.refusing = false;
    expect(await worker.runDue()).toBe(0); // not due yet
    clock.advance(60_000);
    expect(await worker.runDue()).toBe(1);
    clock.advance(DAY);
    expect(await worker.runDue()).toBe(0);
    expect(sink.to(u.email)).toHaveLength(1);
    expect(await emailsOf(u.userId)).toEqual([
      expect.objectContaining({ status: 'sent', attempts: 2, lastError: null }),
    ]);
  });

  it('two instances sending at once: one email per event and recipient', async () => {
    // Two fresh instances on the wall clock (this spec's first app had its clock moved a day on).
    const [a, b] = await Promise.all(
      [1, 2].map(() => startTestApp({ ...ENV, DATABASE_URL: own.url, SMTP_URL: sink.url })),
    );
    try {
      const users = await Promise.all(Array.from({ length: 12 }, () => newUser(60)));
      await Promise.all(users.map((u) => spend(u.auth, 20)));
      const before = sink.received.length;
      // Both workers, woken by the commits' NOTIFY and their polls, race for the same rows.
      a.app.get(EmailWorker).start();
      b.app.get(EmailWorker).start();
      await sink.waitForCount(before + 12);
      await Promise.all([a.app.get(EmailWorker).runDue(), b.app.get(EmailWorker).runDue()]);
      for (const u of users) expect(sink.to(u.email)).toHaveLength(1);
      expect(sink.received.length).toBe(before + 12);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("an organisation's low balance goes to its owners and billing members; a member's limit to the member", async () => {
    const [owner, billing, member] = await Promise.all([newUser(), newUser(), newUser()]);
    const orgId = uniqueId('mailorg').toLowerCase();
    await t.http
      .post('/api/orgs')
      .set(admin())
      .send({ orgId, name: 'Mail Org', ownerUserId: owner.userId })
      .expect(201);
    for (const [who, role] of [
      [billing, 'billing'],
      [member, 'member'],
    ] as const)
      await t.http.put(`/api/orgs/${orgId}/members/${who.userId}`).set(admin()).send({ role }).expect(200);
    await t.http
      .put(`/api/orgs/${orgId}/members/${member.userId}`)
      .set(admin())
      .send({ role: 'member', spendLimit: { credits: 30, period: 'day' } })
      .expect(200);
    await t.http.post('/api/credits/allocate').set(admin()).send({ orgId, credits: 70 }).expect(201);
    await t.http
      .post('/api/usage/record')
      .set(member.auth)
      .send({ service: 'chat', operation: 'completion', credits: 30, orgId })
      .expect(201);
    await worker.runDue();
    const subjects = (who: { email: string }) => sink.to(who.email).map((m) => m.subject);
    expect(subjects(owner)).toEqual(["Acme Chat: Mail Org's balance is below 50 credits"]);
    expect(subjects(billing)).toEqual(["Acme Chat: Mail Org's balance is below 50 credits"]);
    expect(subjects(member)).toEqual(['Acme Chat: you reached your spending limit in Mail Org']);
    expect(sink.to(member.email)[0].text).toContain('reaching your limit of 30 credits');
  });

  it('preferences: own only, every kind listed, unknown kinds refused; the list is for supervisors', async () => {
    const u = await newUser();
    const got = await t.http.get('/api/notifications/preferences').set(u.auth).expect(200);
    // Every kind that emails, feature.limit_reached included, in the preferences' order.
    expect(Object.keys(got.body.email)).toEqual([...EMAIL_KINDS]);
    expect(EMAIL_KINDS).toHaveLength(11);
    const put = await t.http
      .put('/api/notifications/preferences')
      .set(u.auth)
      .send({ email: { 'purchase.paid': false } })
      .expect(200);
    expect(put.body.email).toMatchObject({ 'purchase.paid': false, 'balance.low': true });
    await t.http
      .put('/api/notifications/preferences')
      .set(u.auth)
      .send({ email: { 'webhook.test': false } })
      .expect(400);
    await t.http
      .put('/api/notifications/preferences')
      .set(u.auth)
      .send({ email: { 'balance.low': 'no' } })
      .expect(400);
    await t.http.put('/api/notifications/preferences').set(u.auth).send({}).expect(400);
    await t.http.put('/api/notifications/preferences').set(u.auth).send({ email: null }).expect(400);
    await t.http.get('/api/notifications').set(u.auth).expect(403);
    await t.http.get('/api/notifications?status=lost').set(admin()).expect(400);
    await t.http.post('/api/notifications/unsubscribe/not-a-token').expect(400);
  });
});
