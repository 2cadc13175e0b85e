import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { CLOCK, type Clock } from '../src/common/clock.js';
import { WebhookDeliveryWorker } from '../src/webhooks/delivery.worker.js';
import { MAX_RETRY_DELAY_MS, RETRY_WINDOW_MS } from '../src/webhooks/retry-schedule.js';
import { bearer, startTestApp, type TestApp, token } from './support/app.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

/**
 * Retries on an injected clock: the worker's background loop is off, each pass is run by hand
 * (`runDue`) at the time the test sets, so 3 days of backoff take a second.
 */
const admin = () => bearer(token({ sub: 'webhooks-admin', role: 'admin' }));

describe('webhook retries (injected clock)', () => {
  let own: OwnDatabase;
  let t: TestApp;
  let receiver: WebhookReceiver;
  let now: number;
  let worker: WebhookDeliveryWorker;

  beforeAll(async () => {
    own = await ownDatabase('wh_retries');
    receiver = await WebhookReceiver.start();
    t = await startTestApp({ DATABASE_URL: own.url, WEBHOOK_ALLOW_PRIVATE_URLS: 'true' });
    worker = t.app.get(WebhookDeliveryWorker);
    t.app.get<Clock>(CLOCK).now = () => now;
  });
  beforeEach(() => {
    // Rows are stamped by the database's clock: each test starts the injected one at the real time.
    now = Date.now() + 1000;
  });
  afterEach(() => {
    receiver.respond = () => ({ status: 200 });
    receiver.received.length = 0;
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
    await own?.drop();
  });

  async function subscribe() {
    const res = await t.http
      .post('/api/webhooks')
      .set(admin())
      .send({ url: receiver.url(`/hook/${Math.random()}`), events: ['webhook.test'] })
      .expect(201);
    return { id: res.body.id as string, secret: res.body.secret as string };
  }

  const deliveryOf = async (eventId: string) =>
    (
      await t.db.query(
        `SELECT id, status, attempts, next_attempt_at, queued_at, last_status_code, last_error
           FROM webhook_deliveries WHERE event_id = $1`,
        [eventId],
      )
    ).rows[0];

  it('at least once through failures: same webhook-id, same bytes, a fresh valid signature each time', async () => {
    const hook = await subscribe();
    const answers = [500, 'reset', 200];
    let n = 0;
    receiver.respond = () => {
      const a = answers[n++];
      return a === 'reset' ? 'reset' : { status: a as number, body: 'receiver says no' };
    };
    const { eventId } = (await t.http.post(`/api/webhooks/${hook.id}/test`).set(admin()).expect(202)).body;

    expect(await worker.runDue()).toBe(1);
    const afterFirst = await deliveryOf(eventId);
    expect(afterFirst).toMatchObject({ status: 'pending', attempts: 1, last_status_code: 500 });
    expect(afterFirst.last_error).toBe('HTTP 500: receiver says no');
    const delay = afterFirst.next_attempt_at.getTime() - now;
    expect(delay).toBeGreaterThanOrEqual(3_750);
    expect(delay).toBeLessThanOrEqual(6_250);
    // Not due before its time.
    expect(await worker.runDue()).toBe(0);

    // The second attempt: the receiver cuts the connection without answering.
    now = afterFirst.next_attempt_at.getTime();
    const secondRun = worker.runDue();
    expect(await secondRun).toBe(1);
    const afterSecond = await deliveryOf(eventId);
    expect(afterSecond).toMatchObject({ status: 'pending', attempts: 2, last_status_code: null });
    expect(afterSecond.last_error).toMatch(/socket hang up|ECONNRESET/);

    receiver.respond = () => ({ status: 200 });
    now = afterSecond.next_attempt_at.getTime();
    expect(await worker.runDue()).toBe(1);
    expect(await deliveryOf(eventId)).toMatchObject({ status: 'succeeded', attempts: 3, last_status_code: 200 });
    const got = receiver.received;
    expect(got).toHaveLength(3);
    expect(new Set(got.map((r) => r.headers['webhook-id']))).toEqual(new Set([eventId]));
    expect(new Set(got.map((r) => r.body)).size).toBe(1);
    for (const r of got) expect(WebhookReceiver.verify(hook.secret, r)).toEqual(got[0].event);
  });

  it('backs off exponentially with jitter for 3 days, then fails and disables the endpoint; retry revives it', async () => {
    const hook = await subscribe();
    receiver.respond = () => ({ status: 503 });
    const { eventId } = (await t.http.post(`/api/webhooks/${hook.id}/test`).set(admin()).expect(202)).body;
    const firstAttemptAt = now;
    const bodies = new Set<string>();
    const delays: number[] = [];
    for (let attempt = 1; attempt < 100; attempt++) {
      expect(await worker.runDue()).toBe(1);
      const d = await deliveryOf(eventId);
      expect(d.attempts).toBe(attempt);
      if (d.status !== 'pending') break;
      delays.push(d.next_attempt_at.getTime() - now);
      now = d.next_attempt_at.getTime();
    }
    const final = await deliveryOf(eventId);
    expect(final).toMatchObject({ status: 'failed', next_attempt_at: null, last_status_code: 503 });
    // The window starts with the first attempt.
    expect(final.queued_at.getTime()).toBe(firstAttemptAt);
    expect(now - firstAttemptAt).toBeGreaterThanOrEqual(RETRY_WINDOW_MS);
    delays.forEach((delay, i) => {
      const base = Math.min(5_000 * 2 ** i, MAX_RETRY_DELAY_MS);
      expect(delay).toBeGreaterThanOrEqual(base * 0.75 - 1);
      expect(delay).toBeLessThanOrEqual(base * 1.25 + 1);
    });
    for (const r of receiver.received) {
      expect(r.headers['webhook-id']).toBe(eventId);
      bodies.add(r.body);
    }
    expect(receiver.received).toHaveLength(final.attempts);
    expect(bodies.size).toBe(1);

    const view = (await t.http.get(`/api/webhooks/${hook.id}`).set(admin()).expect(200)).body;
    expect(view.isActive).toBe(false);
    expect(view.disabledReason).toMatch(/failed .* for 3 days/);
    const log = (await t.http.get(`/api/webhooks/${hook.id}/deliveries?status=failed`).set(admin()).expect(200)).body;
    expect(log.items).toEqual([expect.objectContaining({ eventId, status: 'failed', attempts: final.attempts })]);
    // Disabled: the test route refuses, a retry is refused until it is enabled again.
    await t.http.post(`/api/webhooks/${hook.id}/test`).set(admin()).expect(409);
    await t.http.post(`/api/webhooks/deliveries/${final.id}/retry`).set(admin()).expect(409);

    // Back to the present: the receiver's verifier refuses timestamps days away from its clock.
    now = Date.now();
    await t.http.patch(`/api/webhooks/${hook.id}`).set(admin()).send({ isActive: true }).expect(200);
    receiver.respond = () => ({ status: 204 });
    await t.http.post(`/api/webhooks/deliveries/${final.id}/retry`).set(admin()).expect(202);
    expect(await worker.runDue()).toBe(1);
    expect(await deliveryOf(eventId)).toMatchObject({ status: 'succeeded', last_status_code: 204 });
    expect(receiver.received.at(-1)!.headers['webhook-id']).toBe(eventId);
    expect(WebhookReceiver.verify(hook.secret, receiver.received.at(-1)!)).toBeTruthy();
    // A succeeded delivery is sent again on request too: the same webhook-id and the same body.
    const sent = receiver.received.at(-1)!;
    await t.http.post(`/api/webhooks/deliveries/${final.id}/retry`).set(admin()).expect(202);
    expect(await worker.runDue()).toBe(1);
    expect(await deliveryOf(eventId)).toMatchObject({ status: 'succeeded', last_status_code: 204 });
    const resent = receiver.received.at(-1)!;
    expect(resent).not.toBe(sent);
    expect(resent.headers['webhook-id']).toBe(eventId);
    expect(resent.body).toBe(sent.body);
    const revived = (await t.http.get(`/api/webhooks/${hook.id}`).set(admin()).expect(200)).body;
    expect(revived).toMatchObject({ isActive: true, disabledReason: null });
  });

  it('a redirect is a failure and is not followed', async () => {
    const hook = await subscribe();
    const target = receiver.url('/redirect-target');
    receiver.respond = (r) =>
      r.path === '/redirect-target' ? { status: 200 } : { status: 302, headers: { location: target } };
    const { eventId } = (await t.http.post(`/api/webhooks/${hook.id}/test`).set(admin()).expect(202)).body;
    expect(await worker.runDue()).toBe(1);
    const d = await deliveryOf(eventId);
    expect(d).toMatchObject({ status: 'pending', last_status_code: 302 });
    expect(d.last_error).toContain('redirect not followed');
    expect(receiver.received.filter((r) => r.path === '/redirect-target')).toEqual([]);
  });
});
