import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { WebhookDeliveryWorker } from '../src/webhooks/delivery.worker.js';
import { bearer, startTestApp, type TestApp, token } from './support/app.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

/** Two instances on one database: each delivery is attempted by one of them at a time. */
const admin = () => bearer(token({ sub: 'webhooks-admin', role: 'admin' }));

describe('webhooks with two instances', () => {
  let own: OwnDatabase;
  let a: TestApp;
  let b: TestApp;
  let receiver: WebhookReceiver;
  let hook: { id: string; secret: string };

  beforeAll(async () => {
    own = await ownDatabase('wh_instances');
    receiver = await WebhookReceiver.start();
    const env = { DATABASE_URL: own.url, WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_WORKER_CONCURRENCY: '8' };
    [a, b] = await Promise.all([startTestApp(env), startTestApp(env)]);
    const res = await a.http
      .post('/api/webhooks')
      .set(admin())
      .send({ url: receiver.url(), events: ['webhook.test'] })
      .expect(201);
    hook = { id: res.body.id, secret: res.body.secret };
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await receiver?.close();
    await own?.drop();
  });

  const sendTests = async (n: number) => {
    const answers = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        (i % 2 ? a : b).http.post(`/api/webhooks/${hook.id}/test`).set(admin()).expect(202),
      ),
    );
    return answers.map((r) => r.body.eventId as string);
  };

  const expectEachDeliveredOnce = async (eventIds: string[]) => {
    const ids = new Set(eventIds);
    const got = receiver.received.filter((r) => ids.has(r.event.id));
    expect(got.map((r) => r.event.id).sort()).toEqual([...eventIds].sort());
    for (const r of got) expect(WebhookReceiver.verify(hook.secret, r)).toEqual(r.event);
    const { rows } = await a.db.query(
      `SELECT status, attempts FROM webhook_deliveries WHERE event_id = ANY($1::uuid[])`,
      [eventIds],
    );
    expect(rows).toHaveLength(eventIds.length);
    for (const row of rows) expect(row).toEqual({ status: 'succeeded', attempts: 1 });
  };

  it('two workers draining the same backlog at once attempt each delivery once', async () => {
    const eventIds = await sendTests(60);
    const [byA, byB] = await Promise.all([
      a.app.get(WebhookDeliveryWorker).runDue(),
      b.app.get(WebhookDeliveryWorker).runDue(),
    ]);
    expect(byA + byB).toBe(60);
    await expectEachDeliveredOnce(eventIds);
  });

  it('running workers (LISTEN/NOTIFY) deliver each committed event once', async () => {
    receiver.received.length = 0;
    a.app.get(WebhookDeliveryWorker).start();
    b.app.get(WebhookDeliveryWorker).start();
    const eventIds = await sendTests(40);
    for (const id of eventIds) await receiver.waitFor((r) => r.event.id === id);
    // Every outcome written: nothing is left to attempt, so nothing more can arrive.
    for (let i = 0; i < 100; i++) {
      const { rows } = await a.db.query(
        `SELECT count(*)::int AS n FROM webhook_deliveries WHERE status <> 'succeeded'`,
      );
      if (rows[0].n === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await expectEachDeliveredOnce(eventIds);
  });

  it('with the LISTEN connections cut, the poll still delivers, and the listeners come back', async () => {
    const killed = await a.db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE application_name = 'accounting-webhooks' AND datname = current_database()`,
    );
    expect(killed.rows.length).toBe(2);
    const [eventId] = await sendTests(1);
    await receiver.waitFor((r) => r.event.id === eventId);
    for (let i = 0; i < 200; i++) {
      const { rows } = await a.db.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE application_name = 'accounting-webhooks' AND datname = current_database()`,
      );
      if (rows[0].n === 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const { rows } = await a.db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE application_name = 'accounting-webhooks' AND datname = current_database()`,
    );
    expect(rows[0].n).toBe(2);
  });
});
