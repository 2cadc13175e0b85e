import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EmailWorker } from '../src/notifications/email.worker.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { freezeClock } from './support/clock.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';
import { SmtpSink } from './support/smtp-sink.js';

const admin = bearer(token({ sub: 'noaddr-admin', role: 'admin' }));
const ENV = { EMAIL_WORKER_ENABLED: 'false', LOW_BALANCE_THRESHOLDS: '50' };
const DAY = 86_400_000;

/**
 * An email queued for a user whose address is not on file (their token carried no `email`): without
 * SMTP_URL it is `kept` like every email; with it, it ends at its first attempt as `failed` with the
 * reason, never left `pending` to be claimed again. Two apps on one database of the spec's own (a
 * worker claims every due email of its database): one with an SMTP server on 127.0.0.1, one without.
 */
describe('an email for a user with no address on file', () => {
  let own: OwnDatabase;
  let sink: SmtpSink;
  const apps = {} as Record<'smtp' | 'none', TestApp>;

  beforeAll(async () => {
    own = await ownDatabase('email_noaddr');
    sink = await SmtpSink.start();
    apps.smtp = await startTestApp({ ...ENV, DATABASE_URL: own.url, SMTP_URL: sink.url });
    apps.none = await startTestApp({ ...ENV, DATABASE_URL: own.url, SMTP_URL: '' });
  });
  afterAll(async () => {
    for (const app of Object.values(apps)) await app?.close();
    await sink?.close();
    await own?.drop();
  });

  /** A user known by a token without `email`, with a low-balance email queued for them. */
  async function queued(t: TestApp): Promise<string> {
    const userId = uniqueId('noaddr');
    const auth = bearer(token({ sub: userId, email: undefined }));
    await t.http.get('/api/users/me').set(auth).expect(200);
    expect((await t.http.get('/api/users/me').set(auth).expect(200)).body.email).toBeNull();
    await t.http.post('/api/credits/allocate').set(admin).send({ userId, credits: 60 }).expect(201);
    await t.http.post('/api/usage/record').set(auth).send({ service: 'chat', operation: 'c', credits: 20 }).expect(201);
    return userId;
  }
  const emailsOf = async (t: TestApp, userId: string) =>
    (await t.http.get(`/api/notifications?userId=${userId}`).set(admin).expect(200)).body.items as Record<
      string,
      unknown
    >[];

  it('without SMTP_URL: kept, as every email is, and shown with the reason it could not be sent', async () => {
    const t = apps.none;
    const userId = await queued(t);
    expect(await emailsOf(t, userId)).toEqual([expect.objectContaining({ status: 'pending', attempts: 0 })]);
    expect(await t.app.get(EmailWorker).runDue()).toBe(1);
    const [email] = await emailsOf(t, userId);
    expect(email).toMatchObject({ kind: 'balance.low', status: 'kept', to: null, attempts: 1 });
    expect(email.subject).toMatch(/below 50 credits/);
    expect(email.lastError).toBe('the user has no email address');
  });

  it('with SMTP_URL: failed at its first attempt with the reason, never attempted again', async () => {
    const t = apps.smtp;
    const clock = freezeClock(t);
    const userId = await queued(t);
    const received = sink.received.length;
    clock.advance(1000);
    expect(await t.app.get(EmailWorker).runDue()).toBe(1);
    expect(await emailsOf(t, userId)).toEqual([
      expect.objectContaining({ status: 'failed', to: null, attempts: 1, lastError: 'the user has no email address' }),
    ]);
    // Past every lease and retry: nothing is due again, nothing was sent.
    clock.advance(4 * DAY);
    expect(await t.app.get(EmailWorker).runDue()).toBe(0);
    expect((await emailsOf(t, userId))[0]).toMatchObject({ status: 'failed', attempts: 1 });
    expect(sink.received.length).toBe(received);
  });
});
