import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestApp, type TestApp } from './support/app.js';
import { Fixtures } from './support/fixtures.js';
import { functionCalls } from './support/function-calls.js';

/**
 * A settlement takes its account's lock once (docs/money.md "The account lock"):
 * credits_settle() locks the account's row by key before it prices a charge on a rule with volume
 * steps, and credits_settle_hold() runs under that lock without taking it again through
 * credits_lock_account_ids(). The lock seen held from another connection; the function's calls
 * counted by the backend's function statistics not yet flushed (pg_stat_xact_user_functions), the
 * transaction rolled back.
 */
describe('a settlement locks its account once', () => {
  let t: TestApp;
  let f: Fixtures;

  beforeAll(async () => {
    t = await startTestApp({ JOBS_ENABLED: 'false' });
    f = new Fixtures(t, { prefix: 'lockonce' });
  });
  afterAll(() => t.close());

  it.each([
    ['on a rule with volume steps', true],
    ['on a rule without', false],
  ])('%s', async (_, stepped) => {
    const u = await f.newUser({ credits: 10 });
    const volume = {
      model: 'lockonce.model',
      mode: 'graduated',
      period: 'month',
      steps: [
        [1000, '100'],
        [null, '50'],
      ],
      tokens: 0,
      base: '0',
      at: null,
      expiryDays: 30,
    };
    const client = await t.db.connect();
    const other = await t.db.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL track_functions = 'all'`);
      const before = await functionCalls(client, 'credits_lock_account_ids');
      // A session without a hold row settled at 0: no overrun, so no take (which locks for itself).
      const settled = await client.query(
        `SELECT s.out_status FROM accounts a,
                LATERAL credits_settle(a.account_id, 'lockonce-session', 0, 'test', NULL, NULL, NULL, NULL, $2::jsonb) s
          WHERE a.user_id = $1`,
        [u.id, stepped ? JSON.stringify(volume) : null],
      );
      expect(settled.rows).toEqual([{ out_status: 'ok' }]);
      expect((await functionCalls(client, 'credits_lock_account_ids')) - before).toBe(0);
      // the account's row is held until the settlement's transaction ends (NOWAIT: autocommit, alone)
      await expect(
        other.query(
          `SELECT 1 FROM accounts WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) FOR NO KEY UPDATE NOWAIT`,
          [u.id],
        ),
      ).rejects.toThrow(/could not obtain lock/);
    } finally {
      await client.query('ROLLBACK');
      client.release();
      other.release();
    }
  });
});
