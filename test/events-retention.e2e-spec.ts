import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { EventRetentionJob } from '../src/events/event-retention.job.js';
import { bearer, startTestApp, type TestApp, token } from './support/app.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';

/**
 * The events retention job (EVENT_RETENTION_DAYS): events past it go with their finished
 * deliveries, an event with a pending delivery stays until that delivery ends, and two instances
 * running the job at once share the rows. Rows are made old by SQL; the job is run by hand. A
 * database of its own: the job deletes whatever is old in it, and the specs count every row.
 */
const admin = () => bearer(token({ sub: 'retention-admin', role: 'admin' }));
const METRICS_TOKEN = 'retention-metrics-token-0123456789';

describe('events retention', () => {
  let own: OwnDatabase;
  let t: TestApp;
  let other: TestApp;

  beforeAll(async () => {
    own = await ownDatabase('events_retention');
    const env = { DATABASE_URL: own.url, JOBS_ENABLED: 'false', EVENT_RETENTION_DAYS: '30', METRICS_TOKEN };
    t = await startTestApp(env);
    other = await startTestApp(env);
  });
  // Each case subscribes its own endpoints: a `*` one left over would queue deliveries for the next.
  afterEach(() => t.db.query(`DELETE FROM webhook_endpoints`));
  afterAll(async () => {
    await other?.close();
    await t?.close();
    await own?.drop();
  });

  const emit = async (type: string) =>
    (await t.db.query(`SELECT emit_event($1, 'retention-user', '{}'::jsonb) AS id`, [type])).rows[0].id as string;
  /** As if the events had been emitted `days` (fractions allowed) ago, their deliveries with them. */
  const age = async (ids: string[], days: number) => {
    const ago = `${Math.round(days * 86_400)} seconds`;
    await t.db.query(`UPDATE events SET created_at = now() - $2::interval WHERE id = ANY($1::uuid[])`, [ids, ago]);
    await t.db.query(
      `UPDATE webhook_deliveries SET created_at = now() - $2::interval WHERE event_id = ANY($1::uuid[])`,
      [ids, ago],
    );
  };
  const deliveryOf = async (eventId: string, endpointId: string) =>
    (
      await t.db.query(`SELECT id FROM webhook_deliveries WHERE event_id = $1 AND endpoint_id = $2`, [
        eventId,
        endpointId,
      ])
    ).rows[0].id as string;
  const finish = (deliveryId: string, status: 'succeeded' | 'failed') =>
    t.db.query(`UPDATE webhook_deliveries SET status = $2, next_attempt_at = NULL WHERE id = $1`, [deliveryId, status]);
  const ids = async (table: 'events' | 'webhook_deliveries') =>
    new Set((await t.db.query(`SELECT id FROM ${table}`)).rows.map((r: { id: string }) => r.id));
  const deliveriesOf = async (eventIds: string[]) =>
    (await t.db.query(`SELECT id FROM webhook_deliveries WHERE event_id = ANY($1::uuid[])`, [eventIds])).rows.map(
      (r: { id: string }) => r.id,
    );
  let endpoints = 0;
  const subscribe = async (events: string[]) =>
    (
      await t.http
        .post('/api/webhooks')
        .set(admin())
        .send({ url: `http://127.0.0.1:9/hook-${++endpoints}`, events })
        .expect(201)
    ).body.id as string;
  const without = (all: Set<string>, gone: string[]) => [...all].filter((id) => !gone.includes(id)).sort();
  const job = () => t.app.get(EventRetentionJob);

  it('deletes exactly the events past the retention and their finished deliveries', async () => {
    // Emitted before any endpoint: no delivery.
    const unsent = await emit('credits.expired');
    const all = await subscribe(['*']);
    const low = await subscribe(['balance.low']);

    const delivered = await emit('credits.granted'); // one delivery, succeeded
    const mixed = await emit('balance.low'); // succeeded and failed
    const waiting = await emit('balance.low'); // succeeded and still pending
    const justOld = await emit('credits.granted'); // a minute past the retention
    const justYoung = await emit('credits.granted'); // an hour short of it
    const young = await emit('balance.low'); // recent, both deliveries finished
    const fresh = await emit('balance.low'); // recent, pending
    await finish(await deliveryOf(delivered, all), 'succeeded');
    await finish(await deliveryOf(mixed, all), 'succeeded');
    await finish(await deliveryOf(mixed, low), 'failed');
    await finish(await deliveryOf(waiting, all), 'succeeded');
    const stillPending = await deliveryOf(waiting, low);
    await finish(await deliveryOf(justOld, all), 'failed');
    await finish(await deliveryOf(justYoung, all), 'succeeded');
    await finish(await deliveryOf(young, all), 'succeeded');
    await finish(await deliveryOf(young, low), 'failed');
    await age([unsent, delivered, mixed, waiting], 400);
    await age([justOld], 30 + 1 / 1440);
    await age([justYoung], 30 - 1 / 24);
    await age([young], 3);

    const events = await ids('events');
    const deliveries = await ids('webhook_deliveries');
    const doomed = [unsent, delivered, mixed, justOld];
    const doomedDeliveries = await deliveriesOf(doomed);
    expect(doomedDeliveries).toHaveLength(4);

    expect(await job().deleteExpired()).toBe(4);
    expect([...(await ids('events'))].sort()).toEqual(without(events, doomed));
    expect([...(await ids('webhook_deliveries'))].sort()).toEqual(without(deliveries, doomedDeliveries));
    expect(await deliveriesOf([waiting, justYoung, young, fresh])).toHaveLength(7);

    // Nothing more until the pending delivery ends; then its event goes with both deliveries.
    expect(await job().deleteExpired()).toBe(0);
    await finish(stillPending, 'failed');
    expect(await job().deleteExpired()).toBe(1);
    expect([...(await ids('events'))].sort()).toEqual(without(events, [...doomed, waiting]));
    expect(await deliveriesOf([waiting])).toEqual([]);
  });

  it('a delivery of an old event queued again keeps its event until it has ended', async () => {
    const endpoint = await subscribe(['usage.needs_review']);
    const event = await emit('usage.needs_review');
    const delivery = await deliveryOf(event, endpoint);
    await finish(delivery, 'failed');
    await age([event], 31);

    await t.http.post(`/api/webhooks/deliveries/${delivery}/retry`).set(admin()).expect(202);
    expect(await job().deleteExpired()).toBe(0);
    expect(await deliveriesOf([event])).toEqual([delivery]);

    await finish(delivery, 'succeeded');
    expect(await job().deleteExpired()).toBe(1);
    await t.http.post(`/api/webhooks/deliveries/${delivery}/retry`).set(admin()).expect(404);
  });

  it('a retry racing the deletion of its event waits for the job and finds nothing', async () => {
    const endpoint = await subscribe(['credits.expired']);
    const event = await emit('credits.expired');
    const delivery = await deliveryOf(event, endpoint);
    await finish(delivery, 'failed');
    await age([event], 31);
    const client = await own.db.connect();
    try {
      // A batch of the job between its lock and its delete.
      await client.query('BEGIN');
      await client.query(`SELECT id FROM events WHERE id = $1 FOR UPDATE`, [event]);
      const retry = t.http
        .post(`/api/webhooks/deliveries/${delivery}/retry`)
        .set(admin())
        .then((res) => res);
      // The retry waits for the batch: it locks the event before the delivery.
      await vi.waitFor(
        async () => {
          const waiting = await t.db.query(
            `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          );
          expect(waiting.rows.length).toBeGreaterThan(0);
        },
        { timeout: 20_000, interval: 20 },
      );
      await client.query(`DELETE FROM events WHERE id = $1`, [event]);
      await client.query('COMMIT');
      expect((await retry).status).toBe(404);
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
    expect(await deliveriesOf([event])).toEqual([]);
  });

  it('two instances at once delete every old event once and neither fails', async () => {
    const endpoint = await subscribe(['subscription.renewed']);
    const old = 1500;
    await t.db.query(
      `WITH e AS (
         INSERT INTO events (type, user_id, data, created_at)
         SELECT 'subscription.renewed', 'retention-user', jsonb_build_object('n', g), now() - interval '40 days' - g * interval '1 second'
           FROM generate_series(1, $1) g
         RETURNING id, created_at)
       INSERT INTO webhook_deliveries (event_id, endpoint_id, status, next_attempt_at, created_at, delivered_at)
       SELECT e.id, $2, 'succeeded', NULL, e.created_at, e.created_at FROM e`,
      [old, endpoint],
    );
    const keep = await emit('subscription.renewed');
    const before = (await ids('events')).size;

    const [a, b] = await Promise.all([
      t.app.get(EventRetentionJob).deleteExpired(50),
      other.app.get(EventRetentionJob).deleteExpired(50),
    ]);
    expect(a + b).toBe(old);
    expect((await ids('events')).size).toBe(before - old);
    const left = await t.db.query(`SELECT event_id FROM webhook_deliveries WHERE endpoint_id = $1`, [endpoint]);
    expect(left.rows).toEqual([{ event_id: keep }]);
  });

  it('leaves rows another instance holds to it, without waiting for them', async () => {
    const first = await Promise.all(Array.from({ length: 6 }, () => emit('credits.expiring')));
    await age(first, 45);
    const client = await own.db.connect();
    try {
      // Another instance in the middle of its batch: it holds the oldest three.
      await client.query('BEGIN');
      const held = await client.query(
        `SELECT id FROM events WHERE id = ANY($1::uuid[]) ORDER BY created_at, id LIMIT 3 FOR UPDATE`,
        [first],
      );
      expect(await job().deleteExpired(2)).toBe(3);
      await client.query(`DELETE FROM events WHERE id = ANY($1::uuid[])`, [held.rows.map((r) => r.id)]);
      await client.query('COMMIT');
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
    expect(await t.db.query(`SELECT id FROM events WHERE id = ANY($1::uuid[])`, [first])).toMatchObject({ rows: [] });
  });

  it('reports its runs like every job', async () => {
    await job().run();
    const text = (await t.http.get('/metrics').set(bearer(METRICS_TOKEN)).expect(200)).text;
    expect(text).toMatch(/^accounting_job_runs_total\{job="events-retention",result="success"\} 1$/m);
    expect(text).toMatch(/^accounting_job_last_success_timestamp_seconds\{job="events-retention"\} \d/m);
  });
});
