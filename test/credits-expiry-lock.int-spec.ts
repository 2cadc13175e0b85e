import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CreditExpiryJob } from '../src/plans/credit-expiry.job.js';
import { startTestApp, type TestApp } from './support/app.js';
import { expireAllocationNow } from './support/clock.js';
import { expectCreditInvariants } from './support/credit-invariants.js';
import { Fixtures, tokenFor } from './support/fixtures.js';

/**
 * The expiry job is a movement like any other (docs/money.md "The account and its lock"): it takes
 * the account lock of every account it expires, so it waits for a movement in progress and its
 * balance alerts are decided after that movement's, never beside it.
 */
describe('the expiry job under the account lock', () => {
  let t: TestApp;
  let f: Fixtures;

  beforeAll(async () => {
    t = await startTestApp({ JOBS_ENABLED: 'false', LOW_BALANCE_THRESHOLDS: '15' });
    f = new Fixtures(t, { granter: tokenFor('admin', 'expiry-lock-admin'), prefix: 'el' });
  });
  afterAll(() => t.close());

  /** Waits (by polling the server's own view, not the clock) until a backend waits for a lock in `query`. */
  async function waitingOnLock(query: string): Promise<void> {
    for (let i = 0; i < 2000; i++) {
      const { rows } = await t.db.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE $1`,
        [`%${query}%`],
      );
      if (rows[0].n > 0) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
    throw new Error(`no backend waited for a lock in ${query}`);
  }

  it('waits for the account lock a movement holds, then expires and alerts after it', async () => {
    const u = await f.newUser();
    const soon = await f.grant(u.id, { credits: 10, expiryDays: 1 });
    await f.grant(u.id, { credits: 20, expiryDays: 5 });
    await expireAllocationNow(t.db, soon.id);

    // A movement of the user in progress: its transaction holds the account lock and takes 6 credits
    // (20 → 14, across the threshold 15).
    const mover = await t.db.connect();
    try {
      await mover.query('BEGIN');
      await mover.query(
        `SELECT * FROM credits_take_events('test', NULL, NULL, ARRAY[15], ARRAY[(SELECT account_id FROM accounts WHERE user_id = $1)], ARRAY[6], ARRAY[NULL::uuid])`,
        [u.id],
      );
      const job = t.app.get(CreditExpiryJob).expireDue();
      await waitingOnLock('credits_expire_due');
      // The job has written nothing while the movement holds the lock.
      const during = await t.db.query(
        `SELECT count(*)::int AS n FROM credit_ledger WHERE member_id = $1 AND kind = 'expire'`,
        [u.id],
      );
      expect(during.rows[0].n).toBe(0);
      await mover.query('COMMIT');
      expect(await job).toBeGreaterThanOrEqual(1);
    } finally {
      mover.release();
    }

    const expired = await t.db.query(
      `SELECT amount, balance_after::int AS after FROM credit_ledger WHERE member_id = $1 AND kind = 'expire'`,
      [u.id],
    );
    // The expire entry carries the balance after the movement (14), read under the lock.
    expect(expired.rows).toEqual([{ amount: -10, after: 14 }]);
    // balance.low for 15 once: the take's; the job's (24 → 14) finds it disarmed.
    const alerts = await t.db.query(
      `SELECT type, (data->>'threshold')::int AS threshold FROM events WHERE user_id = $1 AND type LIKE 'balance.%'`,
      [u.id],
    );
    expect(alerts.rows).toEqual([{ type: 'balance.low', threshold: 15 }]);
    await expectCreditInvariants(t, [u.id]);
  });
});
