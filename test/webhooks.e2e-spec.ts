import { randomUUID } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { Transactions } from '../src/database/transactions.js';
import { EventsService } from '../src/events/events.service.js';
import { WebhookEndpointsRepository } from '../src/events/webhook-endpoints.repository.js';
import { SessionExpiryJob } from '../src/streaming-sessions/session-expiry.job.js';
import { bearer, startTestApp, type TestApp, token } from './support/app.js';
import { expireSessionNow } from './support/clock.js';
import { Fixtures } from './support/fixtures.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

/**
 * Webhooks end to end: a real receiver on 127.0.0.1, the app's own delivery worker (LISTEN/NOTIFY),
 * signatures checked with the reference Standard Webhooks library. Credit events are added next to
 * `session.expired` with `receiver.waitForEvent(type, {userId})`.
 */
const SONNET = 'anthropic.claude-3-sonnet-20240229-v1:0';
const admin = () => bearer(token({ sub: 'webhooks-admin', role: 'admin' }));

describe('webhooks', () => {
  let own: OwnDatabase;
  let t: TestApp;
  let f: Fixtures;
  let receiver: WebhookReceiver;
  const endpoints: string[] = [];
  const users: string[] = [];

  beforeAll(async () => {
    // Its own database: a running worker delivers every due delivery of its database, and endpoints
    // other spec files create (the fuzz test's example hosts) must never be contacted.
    own = await ownDatabase('wh_e2e');
    receiver = await WebhookReceiver.start();
    t = await startTestApp({ DATABASE_URL: own.url, WEBHOOK_WORKER_ENABLED: 'true' });
    f = new Fixtures(t, { users, prefix: 'wh' });
  });
  afterEach(async () => {
    // Each test starts without endpoints.
    for (const id of endpoints.splice(0)) await t.http.delete(`/api/webhooks/${id}`).set(admin());
    receiver.respond = () => ({ status: 200 });
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
    await own?.drop();
  });

  async function subscribe(events: string[], path = `/hook/${randomUUID()}`) {
    const res = await t.http
      .post('/api/webhooks')
      .set(admin())
      .send({ url: receiver.url(path), events, description: 'test receiver' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    endpoints.push(res.body.id);
    return { id: res.body.id as string, secret: res.body.secret as string, path, body: res.body };
  }

  it('POST answers the secret once; it is stored encrypted and never listed, shown or logged again', async () => {
    const hook = await subscribe(['*']);
    expect(hook.body).toMatchObject({ url: receiver.url(hook.path), events: ['*'], isActive: true });
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(hook.secret.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);

    const list = await t.http.get('/api/webhooks').set(admin()).expect(200);
    const listed = list.body.items.find((w: { id: string }) => w.id === hook.id);
    expect(listed).toMatchObject({ id: hook.id, isActive: true, disabledReason: null });
    expect(JSON.stringify(list.body)).not.toContain(hook.secret.slice(6));
    const one = await t.http.get(`/api/webhooks/${hook.id}`).set(admin()).expect(200);
    expect(one.body.secret).toBeUndefined();

    const { rows } = await t.db.query(`SELECT secret_encrypted FROM webhook_endpoints WHERE id = $1`, [hook.id]);
    expect(rows[0].secret_encrypted).not.toContain(hook.secret.slice(6));
    expect(t.logs.join('\n')).not.toContain(hook.secret.slice(6));
  });

  it('only admins manage webhooks and read events', async () => {
    const user = bearer(token({ sub: 'webhooks-user' }));
    await t.http.get('/api/webhooks').set(user).expect(403);
    await t.http
      .post('/api/webhooks')
      .set(user)
      .send({ url: receiver.url(), events: ['*'] })
      .expect(403);
    await t.http.get('/api/events').set(user).expect(403);
    await t.http.get('/api/events').expect(401);
  });

  it('refuses bad bodies with 400 and changes nothing', async () => {
    const before = (await t.db.query(`SELECT count(*)::int AS n FROM webhook_endpoints`)).rows[0].n;
    for (const body of [
      { url: receiver.url(), events: [] },
      { url: receiver.url(), events: ['balance.nope'] },
      { url: 'not a url', events: ['*'] },
      { url: 'ftp://127.0.0.1/x', events: ['*'] },
      { url: receiver.url(), events: ['*'], extra: 1 },
    ]) {
      const res = await t.http.post('/api/webhooks').set(admin()).send(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect((await t.db.query(`SELECT count(*)::int AS n FROM webhook_endpoints`)).rows[0].n).toBe(before);
  });

  it('the test event reaches this endpoint only, signed as Standard Webhooks, and is logged', async () => {
    const hook = await subscribe(['webhook.test']);
    const other = await subscribe(['*']);
    const accepted = await t.http.post(`/api/webhooks/${hook.id}/test`).set(admin()).expect(202);
    const got = await receiver.waitFor((r) => r.event.id === accepted.body.eventId);

    expect(got.path).toBe(hook.path);
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['webhook-id']).toBe(accepted.body.eventId);
    expect(Math.abs(Number(got.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(300);
    expect(WebhookReceiver.verify(hook.secret, got)).toEqual(got.event);
    expect(() => WebhookReceiver.verify(other.secret, got)).toThrow();
    expect(got.event).toEqual({
      id: accepted.body.eventId,
      type: 'webhook.test',
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      data: { webhookId: hook.id },
    });
    expect(receiver.received.filter((r) => r.path === other.path)).toEqual([]);

    // The deliveries log and the events list say the same.
    let log;
    for (let i = 0; i < 50; i++) {
      log = await t.http.get(`/api/webhooks/${hook.id}/deliveries`).set(admin()).expect(200);
      if (log.body.items[0]?.status === 'succeeded') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(log!.body.items).toEqual([
      expect.objectContaining({
        eventId: accepted.body.eventId,
        type: 'webhook.test',
        status: 'succeeded',
        attempts: 1,
        lastStatusCode: 200,
        lastError: null,
        nextAttemptAt: null,
        deliveredAt: expect.any(String),
      }),
    ]);
    const events = await t.http.get('/api/events?type=webhook.test').set(admin()).expect(200);
    expect(events.body.items.find((e: { id: string }) => e.id === accepted.body.eventId)).toEqual(got.event);
  });

  it('session.expired: emitted in the expiry settlement, delivered with what it charged', async () => {
    const hook = await subscribe(['session.expired']);
    const u = await f.newUser({ credits: 50 });
    const sessionId = `wh-${randomUUID()}`;
    await t.http
      .post('/api/streaming-sessions/initialize')
      .set(bearer(u.jwt))
      .send({ sessionId, modelId: SONNET, estimatedTokens: 1000 })
      .expect(201);
    await expireSessionNow(t.db, sessionId);
    await t.app.get(SessionExpiryJob).expireAbandoned();

    const got = await receiver.waitForEvent('session.expired', { sessionId });
    expect(got.event.data).toEqual({ userId: u.id, sessionId, charged: 3 });
    expect(WebhookReceiver.verify(hook.secret, got)).toEqual(got.event);
    const listed = await t.http.get(`/api/events?type=session.expired&userId=${u.id}`).set(admin()).expect(200);
    expect(listed.body.items).toEqual([got.event]);
  });

  it('a rolled-back change leaves no event and no delivery; a 402 record emits nothing', async () => {
    await subscribe(['*']);
    const marker = randomUUID();
    await expect(
      t.app.get(Transactions).run(async (m) => {
        await t.app.get(EventsService).emit(m, 'session.expired', { userId: marker, sessionId: marker, charged: 1 });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM events WHERE user_id = $1`, [marker]);
    expect(rows[0].n).toBe(0);

    const u = await f.newUser({ credits: 5 });
    const before = (await t.db.query(`SELECT count(*)::int AS n FROM events WHERE user_id = $1`, [u.id])).rows[0].n;
    await t.http
      .post('/api/usage/record')
      .set(bearer(u.jwt))
      .send({ service: 'chat', operation: 'x', credits: 6 })
      .expect(402);
    const after = (await t.db.query(`SELECT count(*)::int AS n FROM events WHERE user_id = $1`, [u.id])).rows[0].n;
    expect(after).toBe(before);
  });

  it('an idempotent replay of the test route emits nothing more; the secret is not replayed', async () => {
    const key = randomUUID();
    const create = () =>
      t.http
        .post('/api/webhooks')
        .set(admin())
        .set('Idempotency-Key', key)
        .send({ url: receiver.url('/idem'), events: ['webhook.test'] });
    const first = await create().expect(201);
    endpoints.push(first.body.id);
    const replay = await create().expect(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toMatchObject({ id: first.body.id, secret: null });

    const testKey = randomUUID();
    const send = () => t.http.post(`/api/webhooks/${first.body.id}/test`).set(admin()).set('Idempotency-Key', testKey);
    const a = await send().expect(202);
    const b = await send().expect(202);
    expect(b.body.eventId).toBe(a.body.eventId);
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1`, [
      first.body.id,
    ]);
    expect(rows[0].n).toBe(1);
  });

  it('a committed event is delivered once to each subscribed endpoint, to "*" and by type, not to others', async () => {
    const all = await subscribe(['*']);
    const typed = await subscribe(['session.expired']);
    const unrelated = await subscribe(['balance.low']);
    const marker = randomUUID();
    const eventId = await t.app
      .get(Transactions)
      .run((m) =>
        t.app.get(EventsService).emit(m, 'session.expired', { userId: marker, sessionId: marker, charged: 2 }),
      );
    await receiver.waitFor((r) => r.event.id === eventId && r.path === all.path);
    await receiver.waitFor((r) => r.event.id === eventId && r.path === typed.path);
    const { rows } = await t.db.query(`SELECT endpoint_id FROM webhook_deliveries WHERE event_id = $1`, [eventId]);
    expect(rows.map((r) => r.endpoint_id).sort()).toEqual([all.id, typed.id].sort());
    expect(receiver.received.filter((r) => r.path === unrelated.path)).toEqual([]);
  });

  it('an admin change holding the endpoint row does not hold up a transaction that emits to it', async () => {
    const hook = await subscribe(['session.expired']);
    const marker = randomUUID();
    const emitter = await t.db.connect();
    try {
      await t.app.get(Transactions).run(async (m) => {
        // The lock PATCH, rotate, test and disable take on the endpoint row, held while another
        // transaction emits an event that fans out to it (its foreign key check locks the row too).
        await t.app.get(WebhookEndpointsRepository, { strict: false }).find(m, hook.id, true);
        await emitter.query('BEGIN');
        await emitter.query(`SET LOCAL lock_timeout = '2s'`);
        await emitter.query(`SELECT emit_event('session.expired', $1, $2)`, [
          marker,
          JSON.stringify({ userId: marker, sessionId: marker, charged: 0 }),
        ]);
        await emitter.query('COMMIT');
      });
    } finally {
      await emitter.query('ROLLBACK').catch(() => undefined);
      emitter.release();
    }
    const { rows } = await t.db.query(
      `SELECT count(*)::int AS n FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
        WHERE e.user_id = $1 AND d.endpoint_id = $2`,
      [marker, hook.id],
    );
    expect(rows[0].n).toBe(1);
  });

  it('PATCH changes events and pauses; DELETE removes; unknown ids are 404', async () => {
    const hook = await subscribe(['balance.low']);
    const patched = await t.http
      .patch(`/api/webhooks/${hook.id}`)
      .set(admin())
      .send({ events: ['*'], description: null, isActive: false })
      .expect(200);
    expect(patched.body).toMatchObject({ events: ['*'], description: null, isActive: false, disabledReason: null });
    await t.http.post(`/api/webhooks/${hook.id}/test`).set(admin()).expect(409);
    await t.http.patch(`/api/webhooks/${hook.id}`).set(admin()).send({ isActive: true }).expect(200);
    const unknown = randomUUID();
    await t.http.get(`/api/webhooks/${unknown}`).set(admin()).expect(404);
    await t.http.post(`/api/webhooks/${unknown}/test`).set(admin()).expect(404);
    await t.http.get(`/api/webhooks/${unknown}/deliveries`).set(admin()).expect(404);
    await t.http.post(`/api/webhooks/deliveries/${unknown}/retry`).set(admin()).expect(404);
    await t.http.delete(`/api/webhooks/${hook.id}`).set(admin()).expect(200);
    await t.http.get(`/api/webhooks/${hook.id}`).set(admin()).expect(404);
  });

  it('rotating the secret answers a new one; for a day both sign', async () => {
    const hook = await subscribe(['webhook.test']);
    const rotated = await t.http.post(`/api/webhooks/${hook.id}/rotate-secret`).set(admin()).expect(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(hook.secret);
    const accepted = await t.http.post(`/api/webhooks/${hook.id}/test`).set(admin()).expect(202);
    const got = await receiver.waitFor((r) => r.event.id === accepted.body.eventId);
    expect(String(got.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(WebhookReceiver.verify(rotated.body.secret, got)).toEqual(got.event);
    expect(WebhookReceiver.verify(hook.secret, got)).toEqual(got.event);
  });

  it('GET /api/events pages newest first with a cursor and filters by type', async () => {
    const marker = randomUUID();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(
        await t.app
          .get(Transactions)
          .run((m) =>
            t.app.get(EventsService).emit(m, 'session.expired', { userId: marker, sessionId: `s${i}`, charged: i }),
          ),
      );
    }
    const first = await t.http.get(`/api/events?userId=${marker}&limit=2`).set(admin()).expect(200);
    expect(first.body.items.map((e: { id: string }) => e.id)).toEqual([ids[2], ids[1]]);
    const second = await t.http
      .get(`/api/events?userId=${marker}&limit=2&cursor=${first.body.nextCursor}`)
      .set(admin())
      .expect(200);
    expect(second.body).toEqual({ items: [expect.objectContaining({ id: ids[0] })], nextCursor: null });
    await t.http.get(`/api/events?type=nope`).set(admin()).expect(400);
    await t.http.get(`/api/events?cursor=garbage`).set(admin()).expect(400);
  });
});
