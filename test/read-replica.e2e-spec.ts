import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { pgBinariesAvailable, PrimaryWithReplica } from './support/pg-cluster.js';

// DB_READ_URL against a real streaming replica of a throwaway primary. Replay on the replica is
// paused while writes go on: whatever a route shows then tells which server it read.

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const METRICS_TOKEN = 'replica-metrics-token-0123456789';

describe.skipIf(!pgBinariesAvailable)('DB_READ_URL: a streaming replica', () => {
  let cluster: PrimaryWithReplica;
  let t: TestApp;
  let primary: pg.Pool;
  let replica: pg.Pool;
  const admin = bearer(token({ sub: uniqueId('replica-admin'), role: 'admin' }));

  beforeAll(async () => {
    cluster = await PrimaryWithReplica.start();
    primary = new pg.Pool({ connectionString: cluster.url('primary'), max: 2 });
    replica = new pg.Pool({ connectionString: cluster.url('replica'), max: 2 });
    // The last test stops the replica: its idle connections then die.
    replica.on('error', () => undefined);
    t = await startTestApp({
      DATABASE_URL: cluster.url('primary'),
      DB_READ_URL: cluster.url('replica'),
      DB_MIGRATIONS_RUN: 'true',
      METRICS_TOKEN,
    });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await Promise.all([primary?.end(), replica?.end()]);
    await cluster?.stop();
  });

  /** Until the replica has replayed everything the primary has written so far (no fixed wait). */
  async function replicaCaughtUp(): Promise<void> {
    const { rows } = await primary.query(`SELECT pg_current_wal_lsn()::text AS lsn`);
    for (;;) {
      const r = await replica.query(`SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done`, [rows[0].lsn]);
      if (r.rows[0].done) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async function pauseReplay(): Promise<void> {
    await replica.query(`SELECT pg_wal_replay_pause()`);
    for (;;) {
      const r = await replica.query(`SELECT pg_get_wal_replay_pause_state() AS state`);
      if (r.rows[0].state === 'paused') return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('is a real hot standby streaming from the primary', async () => {
    expect((await replica.query(`SELECT pg_is_in_recovery() AS r`)).rows[0].r).toBe(true);
    const senders = await primary.query(`SELECT state FROM pg_stat_replication`);
    expect(senders.rows).toEqual([{ state: 'streaming' }]);
  });

  it('statistics, record lists and the CSV export read the replica; everything else the primary', async () => {
    const userId = uniqueId('replica');
    const jwt = bearer(token({ sub: userId }));
    await t.http.get('/api/users/me').set(jwt).expect(200);
    await t.http.post('/api/credits/allocate').set(admin).send({ userId, credits: 1000 }).expect(201);
    const rec = { service: 'chat', operation: 'op' };
    await t.http
      .post('/api/usage/record')
      .set(jwt)
      .send({ ...rec, credits: 10 })
      .expect(201);
    await replicaCaughtUp();
    await t.http
      .get('/api/usage/records')
      .set(jwt)
      .expect(200)
      .expect((r) => expect(r.body.items).toHaveLength(1));

    await pauseReplay();
    try {
      // Writes and the reads that must see them: the primary.
      const second = await t.http
        .post('/api/usage/record')
        .set(jwt)
        .set('Idempotency-Key', 'replica-k1')
        .send({ ...rec, credits: 7 })
        .expect(201);
      const replayed = await t.http
        .post('/api/usage/record')
        .set(jwt)
        .set('Idempotency-Key', 'replica-k1')
        .send({ ...rec, credits: 7 })
        .expect(201);
      expect(replayed.headers['idempotent-replayed']).toBe('true');
      expect(replayed.body.id).toBe(second.body.id);
      const balance = await t.http.get('/api/credits/balance').set(jwt).expect(200);
      expect(balance.body.totalCredits).toBe(1000 - 17);
      // Query-builder reads (defaultMode 'master'): the account's balance, a new account at once.
      const me = await t.http.get('/api/users/me').set(jwt).expect(200);
      expect(me.body.totalCredits).toBe(1000 - 17);
      const newcomer = uniqueId('replica-new');
      await t.http
        .get('/api/users/me')
        .set(bearer(token({ sub: newcomer })))
        .expect(200)
        .expect((r) => expect(r.body.userId).toBe(newcomer));
      const ledger = await t.http.get('/api/credits/ledger').set(jwt).expect(200);
      expect(ledger.body.items.map((e: { usageRecordId: string | null }) => e.usageRecordId)).toContain(second.body.id);
      // A key works the moment it is created.
      const key = await t.http.post('/api/api-keys').set(jwt).send({ name: 'fresh' }).expect(201);
      await t.http.get('/api/credits/balance').set('X-API-Key', key.body.key).expect(200);
      const session = await t.http
        .post('/api/streaming-sessions/initialize')
        .set(jwt)
        .send({ modelId: HAIKU, estimatedTokens: 100 })
        .expect(201);
      const active = await t.http.get('/api/streaming-sessions/active').set(jwt).expect(200);
      expect(JSON.stringify(active.body)).toContain(session.body.sessionId);

      // The replica has not replayed the second record yet: these routes read it.
      const list = await t.http.get('/api/usage/records').set(jwt).expect(200);
      expect(list.body.items.map((r: { credits: number }) => r.credits)).toEqual([10]);
      const stats = await t.http.get('/api/usage/stats').set(jwt).expect(200);
      expect(stats.body).toMatchObject({ totalRecords: 1, totalCredits: 10 });
      const csv = await t.http.get('/api/usage/records?format=csv').set(jwt).expect(200);
      expect(csv.text.trim().split('\r\n')).toHaveLength(2);
      const system = await t.http.get('/api/usage/system-stats').set(admin).expect(200);
      expect(system.body).toMatchObject({ totalRecords: 1, totalCredits: 10 });
    } finally {
      await replica.query(`SELECT pg_wal_replay_resume()`);
    }

    await replicaCaughtUp();
    const list = await t.http.get('/api/usage/records').set(jwt).expect(200);
    expect(list.body.items.map((r: { credits: number }) => r.credits)).toEqual([7, 10]);
    const stats = await t.http.get('/api/usage/stats').set(jwt).expect(200);
    expect(stats.body).toMatchObject({ totalCredits: 17 });
    const csv = await t.http.get('/api/usage/records?format=csv').set(jwt).expect(200);
    expect(csv.text.trim().split('\r\n')).toHaveLength(3);
    // Reconcile reads the primary and holds.
    const reconcile = await t.http.get('/api/credits/reconcile').set(admin).expect(200);
    expect(reconcile.body.mismatches).toEqual([]);
  });

  it('the heavy reads (finance reports, simulations) read the replica, on connections of their own', async () => {
    const userId = uniqueId('replica-finance');
    await t.http
      .get('/api/users/me')
      .set(bearer(token({ sub: userId })))
      .expect(200);
    const sell = () =>
      t.http
        .post('/api/credits/allocate')
        .set(admin)
        .send({ userId, credits: 100, value: { amount: '1.00', currency: 'chf' } })
        .expect(201);
    await sell();
    await replicaCaughtUp();
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const reports = async () => {
      const liability = await t.http.get('/api/finance/liability').query({ currency: 'chf' }).set(admin).expect(200);
      const rollForward = await t.http
        .get('/api/finance/rollforward')
        .query({ currency: 'chf', from: day(Date.now() - 86_400_000), to: day(Date.now() + 86_400_000) })
        .query({ groupBy: 'account' })
        .set(admin)
        .expect(200);
      const mine = rollForward.body.accounts.find((a: { userId?: string }) => a.userId === userId);
      return [liability.body.total, rollForward.body.totals.sold, mine.totals.sold];
    };
    expect(await reports()).toEqual(['1.00', '1.00', '1.00']);
    await pauseReplay();
    try {
      await sell();
      // The primary has the second sale; the reports do not see it yet.
      expect(await reports()).toEqual(['1.00', '1.00', '1.00']);
      const { rows } = await replica.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'accounting-heavy-reads'`,
      );
      expect(rows[0].n).toBeGreaterThan(0);
    } finally {
      await replica.query(`SELECT pg_wal_replay_resume()`);
    }
    await replicaCaughtUp();
    expect(await reports()).toEqual(['2.00', '2.00', '2.00']);
  });

  it('reports the replica pool next to the primary one', async () => {
    const text = (await t.http.get('/metrics').set(bearer(METRICS_TOKEN)).expect(200)).text;
    expect(text).toMatch(/^accounting_db_pool_max\{pool="primary"\} 10$/m);
    expect(text).toMatch(/^accounting_db_pool_max\{pool="replica"\} 10$/m);
    expect(text).toMatch(/^accounting_db_pool_connections\{pool="replica",state="total"\} [1-9]/m);
  });

  // Last: it takes the replica away for good.
  it('without the replica only its routes fail (503); the rest keeps working', async () => {
    const userId = uniqueId('replica-gone');
    const jwt = bearer(token({ sub: userId }));
    await t.http.get('/api/users/me').set(jwt).expect(200);
    await cluster.stopReplica();
    const stats = await t.http.get('/api/usage/stats').set(jwt);
    expect(stats.status).toBe(503);
    expect(JSON.stringify(stats.body)).not.toMatch(/SELECT|at .*\.js/);
    await t.http.get('/api/usage/records').set(jwt).expect(503);
    await t.http.post('/api/credits/allocate').set(admin).send({ userId, credits: 5 }).expect(201);
    await t.http.post('/api/usage/record').set(jwt).send({ service: 'chat', operation: 'op', credits: 2 }).expect(201);
    const balance = await t.http.get('/api/credits/balance').set(jwt).expect(200);
    expect(balance.body.totalCredits).toBe(3);
  });
});
