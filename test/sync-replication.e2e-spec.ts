import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';
import { pgBinariesAvailable, PrimaryWithReplica } from './support/pg-cluster.js';

// `npm run test:ha` once lost acknowledged writes when a standby was promoted after the primary
// crashed. A change the primary had committed locally, but no standby had received, was answered
// 201 anyway by an Idempotency-Key replay on the restarted old primary: a read-only transaction,
// whose COMMIT waits for no standby. Likewise a COMMIT whose wait for the synchronous standby is
// cancelled (pg_cancel_backend) is reported by PostgreSQL as a success, with a WARNING. Here a
// throwaway primary has one synchronous standby, which is taken away: nothing may be acknowledged
// until it is back and has the change.

describe.skipIf(!pgBinariesAvailable)('a synchronous standby: nothing is acknowledged before it has it', () => {
  let cluster: PrimaryWithReplica;
  let t: TestApp;
  let primary: pg.Pool;
  const users: string[] = [];
  let f: Fixtures;

  beforeAll(async () => {
    cluster = await PrimaryWithReplica.start();
    primary = new pg.Pool({ connectionString: cluster.url('primary'), max: 2 });
    t = await startTestApp({ DATABASE_URL: cluster.url('primary'), DB_MIGRATIONS_RUN: 'true' });
    f = new Fixtures(t, { users });
    // The replica (application_name "walreceiver") becomes the synchronous standby.
    await primary.query(`ALTER SYSTEM SET synchronous_standby_names = 'walreceiver'`);
    await primary.query(`SELECT pg_reload_conf()`);
    await standbyIsSynchronous();
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await primary?.end();
    await cluster?.stop();
  });

  let standbyAway = false;
  async function takeStandbyAway(): Promise<void> {
    standbyAway = true;
    await cluster.stopReplica();
  }
  async function bringStandbyBack(): Promise<void> {
    await cluster.startReplica();
    await standbyIsSynchronous();
    standbyAway = false;
  }
  // A failed test leaves no test after it without its standby.
  afterEach(async () => {
    if (standbyAway) await bringStandbyBack();
  });

  async function standbyIsSynchronous(): Promise<void> {
    for (;;) {
      const { rows } = await primary.query(`SELECT sync_state FROM pg_stat_replication`);
      if (rows.length === 1 && rows[0].sync_state === 'sync') return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Sends the request and, once one of the service's connections waits for the synchronous standby,
   * cancels that wait (as an operator's pg_cancel_backend would). Fails if the request is answered
   * before anything waited: it was acknowledged without the standby.
   */
  async function cancelledWhileWaiting(request: PromiseLike<{ status: number; body: { code?: string } }>) {
    let answered: { status: number } | undefined;
    const response = Promise.resolve(request).then((res) => (answered = res));
    for (;;) {
      if (answered) throw new Error(`answered ${answered.status} without waiting for the standby`);
      const { rows } = await primary.query(
        `SELECT pid FROM pg_stat_activity WHERE wait_event = 'SyncRep' AND application_name = 'accounting-service'`,
      );
      if (rows.length === 1) {
        await primary.query(`SELECT pg_cancel_backend($1)`, [rows[0].pid]);
        return response;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  const recordsOf = async (userId: string) =>
    (await t.db.query('SELECT id FROM usage_records WHERE user_id = $1 ORDER BY "timestamp"', [userId])).rows.map(
      (r) => r.id,
    );

  it('a record, its replay and a record without a key wait for the standby; 201 only once it has them', async () => {
    const u = await f.newUser({ credits: 100 });
    const first = await f.recordUsage(u, 7, uniqueId('sync-key'));
    expect(first.status, JSON.stringify(first.body)).toBe(201);

    await takeStandbyAway();

    // The COMMIT waits for the standby; its wait is cancelled. PostgreSQL keeps the local commit and
    // calls it a success: the service answers OUTCOME_UNKNOWN, not 201.
    const key = uniqueId('sync-key');
    const lost = await cancelledWhileWaiting(f.recordUsage(u, 5, key));
    expect(lost.status, JSON.stringify(lost.body)).toBe(503);
    expect(lost.body.code).toBe('OUTCOME_UNKNOWN');
    const [, committedLocally] = await recordsOf(u.id);
    expect(committedLocally).toBeDefined();

    // Its replay reads the stored answer, which only the primary has: it waits for the standby too.
    const replayWithoutStandby = await cancelledWhileWaiting(f.recordUsage(u, 5, key));
    expect(replayWithoutStandby.status, JSON.stringify(replayWithoutStandby.body)).toBe(503);
    expect(replayWithoutStandby.body.code).toBe('OUTCOME_UNKNOWN');

    // Without a key the record is one self-committing statement: the same rule.
    const noKey = await cancelledWhileWaiting(f.recordUsage(u, 3));
    expect(noKey.status, JSON.stringify(noKey.body)).toBe(503);
    expect(noKey.body.code).toBe('OUTCOME_UNKNOWN');

    await bringStandbyBack();
    const replay = await f.recordUsage(u, 5, key);
    expect(replay.status, JSON.stringify(replay.body)).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.id).toBe(committedLocally);
    // Three records (7, 5 and the keyless 3, which did commit locally), each debited once.
    expect(await recordsOf(u.id)).toHaveLength(3);
    expect(await f.available(u.id)).toBe(100 - 7 - 5 - 3);
    await expectInvariants(t, users);
  }, 60_000);

  it('while the standby is there, a replay answers at once, and a plain read is not held', async () => {
    const u = await f.newUser({ credits: 50 });
    const key = uniqueId('sync-key');
    expect((await f.recordUsage(u, 4, key)).status).toBe(201);
    const replay = await f.recordUsage(u, 4, key);
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    await takeStandbyAway();
    // A balance is a read: it commits nothing and waits for no standby.
    const balance = await t.http.get('/api/credits/balance').set(u.auth);
    expect(balance.status, JSON.stringify(balance.body)).toBe(200);
  }, 60_000);
});
