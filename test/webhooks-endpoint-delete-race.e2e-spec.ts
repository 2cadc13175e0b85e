import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { Fixtures } from './support/fixtures.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';
import { until } from './support/until.js';

/**
 * An event emitted while a webhook endpoint is being deleted: the change that emits it (a grant, a
 * settlement, a re-rate's chunk) waits for the deletion, then writes no delivery to the endpoint
 * that is gone, and succeeds. Read without the foreign key's lock, the endpoint would still be seen,
 * and its delivery's insert would fail on the foreign key once the deletion committed: a 500 for a
 * grant or a finalize, a failed re-rate.
 */
describe('an event emitted while its endpoint is deleted', () => {
  let own: OwnDatabase;
  let t: TestApp;
  let f: Fixtures;
  const adminJwt = token({ sub: uniqueId('race-admin'), role: 'admin' });
  const admin = bearer(adminJwt);

  beforeAll(async () => {
    // Its own database: the deletion held open below would stall every other spec's events.
    own = await ownDatabase('wh_race');
    t = await startTestApp({ DATABASE_URL: own.url });
    f = new Fixtures(t, { prefix: 'race', granter: adminJwt });
  });
  afterAll(async () => {
    await t?.close();
    await own?.drop();
  });

  async function endpoint(events: string[]): Promise<string> {
    const res = await t.http
      .post('/api/webhooks')
      .set(admin)
      .send({ url: `http://127.0.0.1:9/${uniqueId('hook')}`, events });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  }

  /**
   * Runs `emit` while another transaction has deleted endpoint `id` and not yet ended; once `emit`
   * waits for it, that transaction commits (or rolls back) and `emit`'s outcome is answered.
   */
  async function whileDeleting<T>(id: string, end: 'COMMIT' | 'ROLLBACK', emit: () => Promise<T>): Promise<T> {
    const deleter = new pg.Client({ connectionString: own.url });
    await deleter.connect();
    try {
      await deleter.query('BEGIN');
      await deleter.query('DELETE FROM webhook_endpoints WHERE id = $1', [id]);
      const pid = (await deleter.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      // Sent now (a supertest request goes out when it is awaited), answered once the deletion ends.
      const emitted = Promise.resolve().then(emit);
      await until('the event waits for the deletion', async () => {
        const { rows } = await own.db.query(`SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, [
          pid,
        ]);
        return rows.length > 0;
      });
      await deleter.query(end);
      return await emitted;
    } finally {
      await deleter.end();
    }
  }

  const deliveriesTo = async (id: string) =>
    (await own.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1`, [id])).rows[0].n;

  it('a grant commits its event without a delivery to the endpoint deleted meanwhile', async () => {
    const gone = await endpoint(['credits.granted']);
    const kept = await endpoint(['credits.granted']);
    const user = await f.newUser();
    const res = await whileDeleting(gone, 'COMMIT', () => f.allocate(user.id, { credits: 7 }));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const { rows } = await own.db.query(
      `SELECT d.endpoint_id FROM events e JOIN webhook_deliveries d ON d.event_id = e.id
        WHERE e.type = 'credits.granted' AND e.data->>'allocationId' = $1`,
      [res.body.id],
    );
    expect(rows).toEqual([{ endpoint_id: kept }]);
    expect(await deliveriesTo(gone)).toBe(0);
  });

  it('a deletion that rolls back leaves the endpoint its delivery', async () => {
    const stays = await endpoint(['credits.granted']);
    const user = await f.newUser();
    const res = await whileDeleting(stays, 'ROLLBACK', () => f.allocate(user.id, { credits: 3 }));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(await deliveriesTo(stays)).toBe(1);
  });

  it('many events at once (a re-rate chunk’s) skip the endpoint deleted meanwhile', async () => {
    const gone = await endpoint(['usage.corrected']);
    const kept = await endpoint(['usage.corrected']);
    const emitted = await whileDeleting(gone, 'COMMIT', async () => {
      const { rows } = await own.db.query<{ n: number }>(
        `SELECT cardinality(emit_events('usage.corrected', ARRAY['race-a', 'race-b']::varchar[],
                            ARRAY['{"userId":"race-a"}', '{"userId":"race-b"}']::jsonb[])) AS n`,
      );
      return rows[0].n;
    });
    expect(emitted).toBe(2);
    expect(await deliveriesTo(gone)).toBe(0);
    expect(await deliveriesTo(kept)).toBe(2);
  });
});
