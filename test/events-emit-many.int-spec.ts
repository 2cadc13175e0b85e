import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestApp, type TestApp } from './support/app.js';

/**
 * emit_events(), the one emitter (a re-rate's chunk of `usage.corrected`), and emit_event(), a batch
 * of one through it: the same events and the same webhook deliveries (active endpoints of the type or
 * `*`). In a transaction rolled back, so no worker sees them.
 */
describe('emit_event = emit_events of one', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ JOBS_ENABLED: 'false' });
  });
  afterAll(() => t?.close());

  it('writes the events with their deliveries; refuses unequal arrays', async () => {
    const client = await t.db.connect();
    try {
      await client.query('BEGIN');
      const endpoints: Record<string, string> = {};
      for (const [name, events, active] of [
        ['typed', ['usage.corrected'], true],
        ['every', ['*'], true],
        ['inactive', ['usage.corrected'], false],
        ['other', ['credits.low'], true],
      ] as const) {
        endpoints[name] = randomUUID();
        await client.query(
          `INSERT INTO webhook_endpoints (id, url, events, secret_encrypted, is_active)
           VALUES ($1, 'https://example.com/hook', $2::varchar[], 'sealed', $3)`,
          [endpoints[name], events, active],
        );
      }
      const type = 'usage.corrected';
      const users = ['emit-a', null, 'emit-c'];
      const data = users.map((u, i) => ({ userId: u, n: i }));
      const many = await client.query<{ ids: string[] }>(`SELECT emit_events($1, $2::varchar[], $3::jsonb[]) AS ids`, [
        type,
        users,
        data.map((d) => JSON.stringify(d)),
      ]);
      const written = await client.query<{ id: string; user_id: string | null; data: unknown; deliveries: string[] }>(
        `SELECT e.id, e.user_id, e.data,
                ARRAY(SELECT d.endpoint_id::text FROM webhook_deliveries d WHERE d.event_id = e.id ORDER BY 1) AS deliveries
           FROM events e WHERE e.type = $1 AND e.data ? 'n' AND e.created_at = now() ORDER BY (e.data ->> 'n')::int`,
        [type],
      );
      const expected = [endpoints.typed, endpoints.every].sort();
      expect(written.rows.map(({ id: _id, ...row }) => row)).toEqual(
        data.map((d, i) => ({ user_id: users[i], data: d, deliveries: expected })),
      );
      // It answers the ids of the events it wrote, each once.
      expect([...many.rows[0].ids].sort()).toEqual(written.rows.map((r) => r.id).sort());

      // emit_event() of one (a batch of one through emit_events()) writes the same deliveries, and answers its id.
      const one = await client.query<{ id: string }>(`SELECT emit_event($1, 'emit-d', '{"n": 3}'::jsonb) AS id`, [
        type,
      ]);
      const single = await client.query(
        `SELECT array_agg(endpoint_id::text ORDER BY 1) AS deliveries FROM webhook_deliveries WHERE event_id = $1`,
        [one.rows[0].id],
      );
      expect(single.rows[0].deliveries).toEqual(expected);
      const event = await client.query(`SELECT user_id, data FROM events WHERE id = $1`, [one.rows[0].id]);
      expect(event.rows).toEqual([{ user_id: 'emit-d', data: { n: 3 } }]);

      const none = await client.query(`SELECT emit_events($1, '{}'::varchar[], '{}'::jsonb[]) AS ids`, [type]);
      expect(none.rows[0].ids).toEqual([]);
      await client.query('SAVEPOINT unequal');
      await expect(
        client.query(`SELECT emit_events($1, ARRAY['a', 'b']::varchar[], ARRAY['{}']::jsonb[])`, [type]),
      ).rejects.toThrow(/one user and one data per event/);
      await client.query('ROLLBACK TO SAVEPOINT unequal');
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
  });
});
