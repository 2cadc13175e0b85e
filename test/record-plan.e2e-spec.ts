import { randomUUID } from 'node:crypto';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token } from './support/app.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';

/**
 * The record statement's plan stays an index path (docs/benchmarks.md "The record stage by stage"):
 * on a database of a few thousand accounts with fresh statistics, the statement POST
 * /api/usage/record sends is run again in a transaction rolled back, with auto_explain (loaded in
 * that session only) printing the plan of every statement it runs, those inside the engine's
 * functions included. No statement may read a table of the hot path by a sequential scan: the record
 * would then cost in proportion to the table, and no single-row figure would show it. Each is replayed
 * in its first calls' plan and in the generic plan its prepared statement keeps after them; the
 * records with an eventId or a key, the batch, the streaming initialize and the finalize likewise, on
 * as many event ids, keys, sessions and holds.
 */
const USERS = 3000;
const HOT_TABLES = ['accounts', 'user_accounts', 'credit_allocations', 'credit_ledger', 'usage_records'];
const SESSION_TABLES = [...HOT_TABLES, 'streaming_sessions', 'credit_holds'];

type Sent = { text: string; name?: string; values?: unknown[] };
type Query = (this: pg.Client, config: unknown, ...rest: unknown[]) => unknown;

describe('the record statement plan', () => {
  let own: OwnDatabase;
  let t: TestApp;
  const sent: Sent[] = [];
  const original = pg.Client.prototype.query as unknown as Query;

  beforeAll(async () => {
    own = await ownDatabase('record_plan');
    t = await startTestApp({ DATABASE_URL: own.url, JOBS_ENABLED: 'false' });
    await own.db.query(
      `INSERT INTO user_accounts (user_id, email, username, role)
       SELECT 'plan-' || g, 'plan-' || g || '@example.com', 'plan-' || g, 'user' FROM generate_series(1, $1) g`,
      [USERS],
    );
    await own.db.query(
      `WITH a AS (
         INSERT INTO credit_allocations (account_id, total_credits, remaining_credits, allocated_by, expires_at, notes)
         SELECT c.account_id, 1000, 1000, 'system', now() + interval '30 days', 'plan'
           FROM accounts c WHERE c.user_id LIKE 'plan-%'
         RETURNING id, account_id, total_credits)
       INSERT INTO credit_ledger (account_id, member_id, allocation_id, kind, amount, balance_after, created_by)
       SELECT a.account_id, c.user_id, a.id, 'grant', a.total_credits, a.total_credits, 'system'
         FROM a JOIN accounts c ON c.account_id = a.account_id`,
    );
    await own.db.query('ANALYZE');
    (pg.Client.prototype as unknown as { query: Query }).query = function (this: pg.Client, config, ...rest) {
      const c = config as Sent | null;
      if (
        typeof c?.name === 'string' &&
        /^(usage_record_|usage_batch_|streaming_sessions_held_together|streaming_session_settle)/.test(c.name)
      ) {
        sent.push({ ...c, values: c.values ?? (rest[0] as unknown[]) });
      }
      return original.call(this, config, ...rest);
    };
  });

  afterAll(async () => {
    (pg.Client.prototype as unknown as { query: Query }).query = original;
    await t?.close();
    await own?.drop();
  });

  it.each([
    ['its first calls', false],
    ['its generic plan', true],
  ])('reads every hot table by an index, inside the engine too, in %s', async (_, generic) => {
    sent.length = 0;
    await t.http
      .post('/api/usage/record')
      .set(bearer(token({ sub: 'plan-7' })))
      .send({ service: 'chat', operation: 'completion', credits: 1 })
      .expect(201);
    expect(sent).toHaveLength(1);
    const [statement] = sent;
    // The same events with a record id of their own: the replay must not meet the record the route wrote.
    const values = remade(statement, 1, (e) => ({ ...e, id: randomUUID() }));
    // and the take's own array of record ids ($9: a statement that claims nothing gives the take its arrays)
    values[8] = (JSON.parse(String(values[1])) as { id: string }[]).map((e) => e.id);

    const plans = await replayed(statement.text, values, { generic });
    // The take itself ran: the allocation read and written by its key, the line appended.
    const all = plans.join('\n');
    expect(all).toMatch(/Index Scan using credit_allocations_pkey on credit_allocations/);
    expect(all).toMatch(/Insert on credit_ledger/);
    expect(all).toMatch(/Insert on usage_records/);
    expect(seqScans(plans, HOT_TABLES)).toEqual([]);
  });

  it('initializes a streaming session by key lookups, in its generic plan too', async () => {
    await own.db.query(
      `INSERT INTO streaming_sessions (session_id, user_id, account_id, model_id, estimated_tokens, estimated_credits,
                                       allocated_credits, expires_at)
       SELECT 'plan-session-' || a.account_id, a.user_id, a.account_id, 'm', 10, 1, 1, now() + interval '1 hour'
         FROM accounts a WHERE a.user_id LIKE 'plan-%'`,
    );
    await own.db.query(
      `INSERT INTO credit_holds (session_id, account_id, outstanding)
       SELECT s.session_id, s.account_id, 1 FROM streaming_sessions s WHERE s.session_id LIKE 'plan-session-%'`,
    );
    await own.db.query('ANALYZE streaming_sessions, credit_holds');
    await t.http
      .post('/api/pricing')
      .set(bearer(token({ sub: 'plan-admin', role: 'admin' })))
      .send({ modelId: 'plan-model', pricePer1kTokens: '1' })
      .expect(201);
    sent.length = 0;
    const open = () =>
      t.http
        .post('/api/streaming-sessions/initialize')
        .set(bearer(token({ sub: 'plan-8' })))
        .send({ modelId: 'plan-model', estimatedTokens: 1000 })
        .expect(201);
    const settled = (await open()).body.sessionId as string;
    const held = (await open()).body.sessionId as string;
    const statement = sent.find((s) => s.name!.startsWith('streaming_sessions_held_together'));
    expect(statement).toBeDefined();
    // The same hold for a session id of its own: the replay must not meet the session the route opened.
    expect(JSON.parse(String(statement!.values![3]))).toHaveLength(1);
    const values = remade(statement!, 3, (item) => ({ ...item, session_id: `plan-${randomUUID()}` }));

    const plans = await replayed(statement!.text, values, { generic: true });
    const all = plans.join('\n');
    expect(all).toMatch(/Insert on credit_holds/);
    expect(all).toMatch(/Insert on streaming_sessions/);
    expect(seqScans(plans, SESSION_TABLES)).toEqual([]);

    // The finalize's statement, sent for one session and replayed for the other, still held.
    await t.http
      .post('/api/streaming-sessions/finalize')
      .set(bearer(token({ sub: 'plan-8' })))
      .send({ sessionId: settled, actualTokens: 500 })
      .expect(200);
    const settle = sent.find((s) => s.name!.startsWith('streaming_session_settle'));
    expect(settle).toBeDefined();
    const settling = JSON.parse(String(settle!.values![2])) as { session_id: string }[];
    expect(settling.map((item) => item.session_id)).toEqual([settled]);
    const settleValues = remade(settle!, 2, (item) => ({
      ...item,
      session_id: held,
      usage_record_id: randomUUID(),
      record_id: randomUUID(),
    }));
    const settlePlans = await replayed(settle!.text, settleValues, { generic: true });
    expect(settlePlans.join('\n')).toMatch(/Update on credit_holds/);
    expect(seqScans(settlePlans, SESSION_TABLES)).toEqual([]);
  });

  it('records with an eventId and in a batch by key lookups, in their generic plans', async () => {
    await own.db.query(
      `INSERT INTO usage_event_ids (owner, event_id, usage_record_id)
       SELECT 'plan-' || g, 'plan-event-' || g, gen_random_uuid() FROM generate_series(1, $1) g`,
      [USERS],
    );
    await own.db.query('ANALYZE usage_event_ids');
    const auth = bearer(token({ sub: 'plan-10' }));
    const usage = { service: 'chat', operation: 'completion', credits: 1 };
    sent.length = 0;
    await t.http
      .post('/api/usage/record')
      .set(auth)
      .send({ ...usage, eventId: 'plan-event-a' })
      .expect(201);
    await t.http
      .post('/api/usage/records/batch')
      .set(auth)
      .send({ events: [{ ...usage, eventId: 'plan-event-b' }] })
      .expect(200);
    expect(sent).toHaveLength(2);
    for (const [i, statement] of sent.entries()) {
      // Events of their own, new ids and records: the replay must meet neither the route's event nor its record.
      const values = remade(statement, 1, (e) => ({ ...e, id: randomUUID(), event_id: `plan-event-${i}-z` }));
      const plans = await replayed(statement.text, values, { generic: true });
      expect(plans.join('\n')).toMatch(/Insert on usage_event_ids/);
      expect(seqScans(plans, [...HOT_TABLES, 'usage_event_ids'])).toEqual([]);
    }
  });

  it('records with an Idempotency-Key by key lookups, in its generic plan', async () => {
    await own.db.query(
      `INSERT INTO idempotency_keys (principal, key, fingerprint, method, path, status_code, response_body)
       SELECT 'user:plan-' || g, 'plan-key-' || g, repeat('0', 64), 'POST', '/api/usage/record', 201, '{}'
         FROM generate_series(1, $1) g`,
      [USERS],
    );
    await own.db.query('ANALYZE idempotency_keys');
    sent.length = 0;
    await t.http
      .post('/api/usage/record')
      .set(bearer(token({ sub: 'plan-9' })))
      .set('Idempotency-Key', 'plan-key-a')
      .send({ service: 'chat', operation: 'completion', credits: 1 })
      .expect(201);
    expect(sent).toHaveLength(1);
    const [statement] = sent;
    // A record of its own under a key of its own: the replay must not meet the route's record or key.
    const values = remade(statement, 1, (e) => ({
      ...e,
      id: randomUUID(),
      idem: { ...(e.idem as object), key: 'plan-key-b', lock: '42' },
    }));
    const plans = await replayed(statement.text, values, { generic: true });
    expect(plans.join('\n')).toMatch(/Insert on idempotency_keys/);
    expect(seqScans(plans, [...HOT_TABLES, 'idempotency_keys'])).toEqual([]);
  });

  /**
   * `text` run again with `values` in a transaction rolled back, on a connection of its own with
   * auto_explain printing every statement's plan (nested ones too); `generic`: as a prepared statement
   * forced to its generic plan, the one PostgreSQL keeps once the custom plans cost no less. Every row
   * answered must be ok.
   */
  async function replayed(text: string, values: unknown[], { generic = false } = {}): Promise<string[]> {
    const client = new pg.Client({ connectionString: own.url });
    const plans: string[] = [];
    client.on('notice', (notice) => {
      if (/Query Text:/.test(notice.message ?? '')) plans.push(notice.message!);
    });
    await client.connect();
    try {
      await client.query("LOAD 'auto_explain'");
      await client.query(
        `SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on;
         SET auto_explain.log_analyze = on; SET auto_explain.log_level = notice; SET client_min_messages = notice`,
      );
      if (generic) await client.query('SET plan_cache_mode = force_generic_plan');
      await client.query('BEGIN');
      const { rows } = await client.query(generic ? { name: 'replayed', text, values } : { text, values });
      expect(rows.map((r: { out_status: string }) => r.out_status)).toEqual(['ok']);
      await client.query('ROLLBACK');
    } finally {
      await client.end();
    }
    return plans;
  }
});

/** Which of `tables` the plans read by a sequential scan that ran. */
const seqScans = (plans: string[], tables: string[]): string[] =>
  plans.flatMap((plan) =>
    plan
      .split('\n')
      .filter((line) => /Seq Scan on (\w+)/.test(line) && !/never executed/.test(line))
      .map((line) => /Seq Scan on (\w+)/.exec(line)![1])
      .filter((table) => tables.includes(table)),
  );

/** A sent statement's values with its JSON array parameter at `index` remade item by item. */
const remade = (
  statement: Sent,
  index: number,
  remake: (item: Record<string, unknown>) => Record<string, unknown>,
): unknown[] => {
  const values = [...statement.values!];
  values[index] = JSON.stringify((JSON.parse(String(values[index])) as Record<string, unknown>[]).map(remake));
  return values;
};
