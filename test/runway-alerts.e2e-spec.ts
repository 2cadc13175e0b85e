import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CLOCK, type Clock } from '../src/common/clock.js';
import { EmailWorker } from '../src/notifications/email.worker.js';
import { RunwayAlertJob } from '../src/runway/runway-alert.job.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';
import { SmtpSink } from './support/smtp-sink.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

/**
 * credits.runway: the alert job run by two instances of one database, its events delivered to a
 * webhook receiver on 127.0.0.1 and its emails sent to a real SMTP server. Each account's run-out
 * is its one lot's expiry (cause "expiry"), so moving the apps' clocks on keeps the run-out day and
 * only brings it nearer. The database is the spec's own: the job reads every account with usage.
 */
const admin = () => bearer(token({ sub: 'runway-alerts-admin', role: 'admin' }));
const DAY = 86_400_000;

describe('runway alerts: credits.runway once per account, threshold and run-out day', () => {
  let own: OwnDatabase;
  let sink: SmtpSink;
  let receiver: WebhookReceiver;
  let a: TestApp;
  let b: TestApp;
  let now: number;

  beforeAll(async () => {
    own = await ownDatabase('runway_alerts');
    sink = await SmtpSink.start();
    receiver = await WebhookReceiver.start();
    const env = { DATABASE_URL: own.url, JOBS_ENABLED: 'false', RUNWAY_ALERT_DAYS: '7,3,1' };
    a = await startTestApp({ ...env, SMTP_URL: sink.url, WEBHOOK_WORKER_ENABLED: 'true', PLATFORM_NAME: 'Acme' });
    b = await startTestApp(env);
    await a.http
      .post('/api/webhooks')
      .set(admin())
      .send({ url: receiver.url('/runway'), events: ['credits.runway'] })
      .expect(201);
    now = Date.now();
    for (const t of [a, b]) t.app.get<Clock>(CLOCK).now = () => now;
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await receiver?.close();
    await sink?.close();
    await own?.drop();
  });

  /** Both instances' clocks at `at`. */
  const setClock = (at: number) => {
    now = at;
  };
  /** Both clocks just after everything written so far (the runway reads what was written before it); answers that instant. */
  const settle = () => {
    setClock(Date.now() + 2);
    return now;
  };
  const expireAt = (lotId: string, at: number) =>
    own.db.query(`UPDATE credit_allocations SET expires_at = $2 WHERE id = $1`, [lotId, new Date(at)]);
  /** The job on both instances at once, twice: answers the events emitted in all. */
  const alertTwiceOnTwo = async () => {
    let emitted = 0;
    for (let i = 0; i < 2; i++) {
      const runs = await Promise.all([a, b].map((t) => t.app.get(RunwayAlertJob).alert()));
      emitted += runs.reduce((s, n) => s + n, 0);
    }
    return emitted;
  };
  const runwayEvents = async (userId: string) =>
    (
      await own.db.query(
        `SELECT data FROM events WHERE type = 'credits.runway' AND data->>'userId' = $1 ORDER BY created_at, id`,
        [userId],
      )
    ).rows.map((r: { data: unknown }) => r.data);

  /** A user with one lot of `credits` and `used` credits of usage now. */
  async function newUser(credits: number, used: number) {
    const userId = uniqueId('rwa');
    const email = `${userId}@example.com`;
    const auth = bearer(token({ sub: userId, email, username: userId }));
    await a.http.get('/api/users/me').set(auth).expect(200);
    const lot = await a.http.post('/api/credits/allocate').set(admin()).send({ userId, credits }).expect(201);
    if (used > 0)
      await a.http
        .post('/api/usage/record')
        .set(auth)
        .send({ service: 'chat', operation: 'completion', credits: used })
        .expect(201);
    return { userId, email, auth, lotId: lot.body.id as string };
  }

  it('crossing 7 then 3 days: one event each, never twice on two instances; a new run-out day alerts again', async () => {
    // 1000 credits, 140 used in the window: a burn of 10 a day spends 50 before the lot expires.
    const u = await newUser(1000, 140);
    const start = settle();
    const expiry = start + 5 * DAY + 3_600_000;
    await expireAt(u.lotId, expiry);
    const route = (await a.http.get('/api/credits/runway').set(u.auth).expect(200)).body;
    expect(route).toMatchObject({ runsOutAt: new Date(expiry).toISOString(), cause: 'expiry', balance: 860 });

    // 5 days away: within 7 only.
    expect(await alertTwiceOnTwo()).toBe(1);
    const sevenDays = { userId: u.userId, runsOutAt: new Date(expiry).toISOString(), days: 7 };
    expect(await runwayEvents(u.userId)).toEqual([sevenDays]);

    // Two and a half days on, the same run-out instant is 2.6 days away: within 3, once.
    setClock(start + 2.5 * DAY);
    expect(await alertTwiceOnTwo()).toBe(1);
    const threeDays = { ...sevenDays, days: 3 };
    expect(await runwayEvents(u.userId)).toEqual([sevenDays, threeDays]);
    expect(await alertTwiceOnTwo()).toBe(0);

    // The lot now expires a day later: another run-out day, 3.6 days away, within 7 again.
    const later = expiry + DAY;
    await expireAt(u.lotId, later);
    expect(await alertTwiceOnTwo()).toBe(1);
    expect((await runwayEvents(u.userId)).at(-1)).toEqual({ ...sevenDays, runsOutAt: new Date(later).toISOString() });
    expect(await alertTwiceOnTwo()).toBe(0);
    expect(await runwayEvents(u.userId)).toHaveLength(3);
    // Delivered, each once (the clocks are past every delivery's first attempt now), as stored.
    await receiver.waitForEvent('credits.runway', { userId: u.userId, runsOutAt: new Date(later).toISOString() });
    await receiver.waitForEvent('credits.runway', { userId: u.userId, days: 3 });
    await receiver.waitForEvent('credits.runway', { userId: u.userId, days: 7, runsOutAt: sevenDays.runsOutAt });
    const delivered = receiver.received.filter((r) => r.event.data.userId === u.userId);
    expect(delivered.map((r) => r.event.data)).toHaveLength(3);
    expect(new Set(delivered.map((r) => r.event.id)).size).toBe(3);
  });

  it('first seen within 1 day: one event saying 1, and 7 and 3 are not sent after it', async () => {
    const u = await newUser(500, 14);
    const expiry = settle() + 20 * 3_600_000;
    await expireAt(u.lotId, expiry);
    expect(await alertTwiceOnTwo()).toBe(1);
    expect(await runwayEvents(u.userId)).toEqual([
      { userId: u.userId, runsOutAt: new Date(expiry).toISOString(), days: 1 },
    ]);
    setClock(now + 3_600_000);
    expect(await alertTwiceOnTwo()).toBe(0);
  });

  it('usage by streaming sessions alone is looked at too', async () => {
    const modelId = uniqueId('rwa.model');
    await a.http.post('/api/pricing').set(admin()).send({ modelId, pricePer1kTokens: '1000' }).expect(201);
    const u = await newUser(1000, 0);
    const sessionId = uniqueId('rwa-session');
    await a.http
      .post('/api/streaming-sessions/initialize')
      .set(u.auth)
      .send({ sessionId, modelId, estimatedTokens: 200 })
      .expect(201);
    // Held 200, 60 of them released: 140 used, a burn of 10 a day.
    const fin = await a.http
      .post('/api/streaming-sessions/finalize')
      .set(u.auth)
      .send({ sessionId, actualTokens: 140 })
      .expect(200);
    expect(fin.body.actualCredits).toBe(140);
    const expiry = settle() + 5 * DAY;
    await expireAt(u.lotId, expiry);
    expect((await a.http.get('/api/credits/runway').set(u.auth).expect(200)).body).toMatchObject({
      burnPerDay: '10.0000',
      runsOutAt: new Date(expiry).toISOString(),
    });
    expect(await alertTwiceOnTwo()).toBe(1);
    expect(await runwayEvents(u.userId)).toEqual([
      { userId: u.userId, runsOutAt: new Date(expiry).toISOString(), days: 7 },
    ]);
  });

  it('no usage, or a run-out beyond every threshold: nothing', async () => {
    const idle = await newUser(100, 0);
    const far = await newUser(10_000, 14);
    await expireAt(idle.lotId, settle() + 2 * DAY);
    await expireAt(far.lotId, now + 300 * DAY);
    expect(await alertTwiceOnTwo()).toBe(0);
    expect(await runwayEvents(idle.userId)).toEqual([]);
    expect(await runwayEvents(far.userId)).toEqual([]);
  });

  it('emails the user: a text and an HTML part with the run-out day; off by preference, it is suppressed', async () => {
    const u = await newUser(1000, 140);
    const off = await newUser(1000, 140);
    const runsOut = settle() + 4 * DAY;
    await expireAt(u.lotId, runsOut);
    await expireAt(off.lotId, runsOut);
    await a.http
      .put('/api/notifications/preferences')
      .set(off.auth)
      .send({ email: { 'credits.runway': false } })
      .expect(200);
    expect(await alertTwiceOnTwo()).toBe(2);
    setClock(Date.now() + 1000); // past the emails' first attempt, queued at the database's now()
    await a.app.get(EmailWorker).runDue();
    const mails = sink.to(u.email);
    expect(mails).toHaveLength(1);
    const day = new Date(runsOut).toISOString().slice(0, 10);
    const at = `${new Date(runsOut).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
    expect(mails[0].subject).toBe(`Acme: your credits run out around ${day}`);
    expect(mails[0].text).toContain(`run out around ${at}: within 7 days.`);
    expect(mails[0].html).toContain(`<strong>${at}</strong>: within 7 days.`);
    expect(sink.to(off.email)).toEqual([]);
    const offMails = (await a.http.get(`/api/notifications?userId=${off.userId}`).set(admin()).expect(200)).body.items;
    expect(offMails.map((m: { kind: string; status: string }) => [m.kind, m.status])).toEqual([
      ['credits.runway', 'suppressed'],
    ]);
  });
});
