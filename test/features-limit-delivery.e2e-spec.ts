import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CLOCK, type Clock } from '../src/common/clock.js';
import { EmailWorker } from '../src/notifications/email.worker.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';
import { SmtpSink } from './support/smtp-sink.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

/**
 * feature.limit_reached delivered for real: a webhook to a receiver on 127.0.0.1 by the app's own
 * worker, and an email to an SMTP server on 127.0.0.1, once per account, feature and period (the
 * clock set for the next period).
 */
const admin = bearer(token({ sub: 'flim-admin', role: 'admin' }));

describe('feature.limit_reached as a webhook and an email', () => {
  let own: OwnDatabase;
  let t: TestApp;
  let receiver: WebhookReceiver;
  let sink: SmtpSink;

  beforeAll(async () => {
    own = await ownDatabase('feature_limit');
    [receiver, sink] = await Promise.all([WebhookReceiver.start(), SmtpSink.start()]);
    t = await startTestApp({
      DATABASE_URL: own.url,
      WEBHOOK_WORKER_ENABLED: 'true',
      SMTP_URL: sink.url,
      EMAIL_WORKER_ENABLED: 'false',
      PLATFORM_NAME: 'Acme Chat',
    });
    const hook = await t.http
      .post('/api/webhooks')
      .set(admin)
      .send({ url: receiver.url('/features'), events: ['feature.limit_reached'] });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await Promise.all([receiver?.close(), sink?.close()]);
    await own?.drop();
  });

  it('sends one webhook and one email when a period’s use reaches the limit, and again the next period', async () => {
    const clock = t.app.get<Clock>(CLOCK);
    const wall = clock.now;
    const userId = uniqueId('flim');
    const email = `${userId}@example.com`;
    const auth = bearer(token({ sub: userId, email, username: userId }));
    await t.http.get('/api/users/me').set(auth).expect(200);
    const featureKey = 'image.generations';
    await t.http.post('/api/features').set(admin).send({ featureKey, name: 'Image generations', type: 'metered' });
    await t.http
      .put(`/api/entitlements/${featureKey}`)
      .set(admin)
      .send({ userId, grant: { limit: 2, period: 'day' } })
      .expect(200);
    const check = (consume: number) =>
      t.http.post('/api/entitlements/check').set(auth).send({ featureKey, consume }).expect(200);
    const worker = t.app.get(EmailWorker);
    try {
      clock.now = () => Date.parse('2033-02-14T09:00:00Z');
      await check(1);
      expect((await check(1)).body).toMatchObject({ allowed: true, used: 2, remaining: 0 });
      const hook = await receiver.waitForEvent('feature.limit_reached', { userId });
      expect(hook.event.data).toEqual({ userId, featureKey, limit: 2, period: 'day' });
      expect(await worker.runDue()).toBe(1);
      expect(sink.received).toHaveLength(1);
      const [mail] = sink.received;
      expect(mail.to).toEqual([email]);
      expect(mail.mail.subject).toContain('image.generations');
      expect(mail.mail.text).toContain('used all 2 of image.generations for this day');

      // Refused, then the limit raised and reached again the same day: no second event, no email.
      expect((await check(1)).body).toMatchObject({ allowed: false, reason: 'limit_reached' });
      await t.http
        .put(`/api/entitlements/${featureKey}`)
        .set(admin)
        .send({ userId, grant: { limit: 3, period: 'day' } })
        .expect(200);
      expect((await check(1)).body).toMatchObject({ allowed: true, used: 3, remaining: 0 });
      const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM events WHERE type = 'feature.limit_reached'`);
      expect(rows[0].n).toBe(1);
      expect(await worker.runDue()).toBe(0);

      // The next day is a period of its own: its own webhook and email.
      clock.now = () => Date.parse('2033-02-15T00:00:01Z');
      expect((await check(3)).body).toMatchObject({ allowed: true, used: 3, remaining: 0 });
      await expect
        .poll(() => receiver.received.filter((r) => r.event.type === 'feature.limit_reached').length, {
          timeout: 15_000,
        })
        .toBe(2);
      expect(await worker.runDue()).toBe(1);
      expect(sink.received).toHaveLength(2);
      expect(receiver.received.filter((r) => r.event.type === 'feature.limit_reached')).toHaveLength(2);
    } finally {
      clock.now = wall;
    }
  });
});
