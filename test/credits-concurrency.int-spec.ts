import pg from 'pg';
import { inject } from 'vitest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { InsufficientCreditsError } from '../src/common/errors/domain-error.js';
import { CreditExpiryJob } from '../src/plans/credit-expiry.job.js';
import { SessionExpiryJob } from '../src/streaming-sessions/session-expiry.job.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { expireAllocationNow, expireSessionNow } from './support/clock.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';
import { Metering } from './support/metering.js';

/** Many of production's money calls at once, on the services behind the routes (see Metering). */
describe('credits under concurrency', () => {
  let t: TestApp;
  let f: Fixtures;
  let metering: Metering;
  const users: string[] = [];

  beforeAll(async () => {
    t = await startTestApp({ DB_POOL_SIZE: '20' });
    f = new Fixtures(t, { granter: tokenFor('supervisor', 'concurrency-supervisor'), prefix: 'cc', users });
    metering = await Metering.start(t);
  });
  afterEach(() => expectInvariants(t, users));
  afterAll(() => t.close());

  /** The status a call answers over HTTP: 402 for a short balance, `ok` otherwise. */
  const statusOf = (call: Promise<unknown>, ok: number) =>
    call.then(
      () => ok,
      (e: unknown) => (e instanceof InsufficientCreditsError ? e.status : Promise.reject(e)),
    );
  /** A usage record of `amount` credits; resolves to the HTTP status it would answer. */
  const recordStatus = (userId: string, amount: number) => statusOf(metering.record(userId, amount), 201);

  it('50 parallel records of 1 against a balance of 20: exactly 20 succeed, 30 get 402', async () => {
    const { id: user } = await f.newUser({ credits: [12, 8] });
    const statuses = await Promise.all(Array.from({ length: 50 }, () => recordStatus(user, 1)));
    expect(statuses.filter((s) => s === 201)).toHaveLength(20);
    expect(statuses.filter((s) => s === 402)).toHaveLength(30);
    const balance = await t.http
      .get('/api/credits/balance')
      .set(bearer(token({ sub: user })))
      .expect(200);
    expect(balance.body.totalCredits).toBe(0);
    const debits = await t.db.query(
      `SELECT count(*)::int AS n, SUM(amount)::int AS s FROM credit_ledger WHERE member_id = $1 AND kind = 'debit'`,
      [user],
    );
    expect(debits.rows[0]).toEqual({ n: 20, s: -20 });
    // Every entry's balance_after is unique and steps down by one: the debits serialised.
    const after = await t.db.query(
      `SELECT balance_after::int AS b FROM credit_ledger WHERE member_id = $1 AND kind = 'debit' ORDER BY id`,
      [user],
    );
    expect(after.rows.map((r) => r.b)).toEqual(Array.from({ length: 20 }, (_, i) => 19 - i));
  });

  it('parallel mixed-size records never overspend', async () => {
    const { id: user } = await f.newUser({ credits: [30, 7] });
    const amounts = Array.from({ length: 30 }, (_, i) => (i % 5) + 1);
    const statuses = await Promise.all(amounts.map((a) => recordStatus(user, a)));
    const spent = amounts.filter((_, i) => statuses[i] === 201).reduce((s, a) => s + a, 0);
    const remaining = await f.available(user);
    expect(spent + remaining).toBe(37);
    expect(remaining).toBeLessThan(5); // a record of 1..5 failed only when the balance was short
  });

  it('records of 10 users in parallel all succeed', async () => {
    const users = await Promise.all(Array.from({ length: 10 }, () => f.newUser({ credits: 10 }).then((u) => u.id)));
    const statuses = await Promise.all(
      users.flatMap((u) => [recordStatus(u, 3), recordStatus(u, 3), recordStatus(u, 4)]),
    );
    expect(statuses.every((s) => s === 201)).toBe(true);
    for (const u of users) expect(await f.available(u)).toBe(0);
  });

  it('one user’s lock never makes another user wait', async () => {
    const [a, b] = await Promise.all([
      f.newUser({ credits: 5 }).then((u) => u.id),
      f.newUser({ credits: 5 }).then((u) => u.id),
    ]);
    const client = new pg.Client({ connectionString: inject('databaseUrl') });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT 1 FROM user_accounts WHERE user_id = $1 FOR UPDATE', [a]);
      let aDone = false;
      const aRecord = recordStatus(a, 1).then((s) => {
        aDone = true;
        return s;
      });
      // b's record completes while a's lock is still held (it would wait forever otherwise)…
      expect(await recordStatus(b, 1)).toBe(201);
      // …and a's cannot complete until the lock is released.
      expect(aDone).toBe(false);
      await client.query('COMMIT');
      expect(await aRecord).toBe(201);
    } finally {
      await client.end();
    }
  });

  it('concurrent holds, settlements and both expiry jobs keep the ledger consistent', async () => {
    const { id: user } = await f.newUser({ credits: 40 });
    const short = uniqueId('short');
    // An allocation that expires while the sessions hold, so the expiry job races the settlements.
    const brief = await f.grant(user, { credits: 10, expiryDays: 1 });
    const sessions = Array.from({ length: 10 }, (_, i) => `${short}-${i}`);
    // Estimated 5 each → holds 6.
    const held = await Promise.all(sessions.map((s) => statusOf(metering.initialize(user, s, 5), 201)));
    expect(held.filter((s) => s === 201)).toHaveLength(8); // 50 credits / 6
    await expireAllocationNow(t.db, brief.id);
    const open = sessions.filter((_, i) => held[i] === 201);
    // The last two are abandoned: the session expiry job settles them at their estimate.
    const [abandoned, settled] = [open.slice(6), open.slice(0, 6)];
    for (const s of abandoned) await expireSessionNow(t.db, s);
    // Against holds of 6: finalized charging 0, 2, 6 and 8 (an overrun), aborted charging 2 and 5.
    await Promise.all([
      ...settled.map((s, i) => (i % 3 === 2 ? metering.abort(user, s, i) : metering.finalize(user, s, i * 2))),
      t.app.get(SessionExpiryJob).expireAbandoned(),
      t.app.get(CreditExpiryJob).expireDue(),
      t.app.get(CreditExpiryJob).expireDue(),
    ]);
    await t.app.get(CreditExpiryJob).expireDue();
    const statuses = await t.db.query(
      `SELECT status, count(*)::int AS n FROM streaming_sessions WHERE user_id = $1 GROUP BY status ORDER BY status`,
      [user],
    );
    expect(statuses.rows).toEqual([
      { status: 'aborted', n: 2 },
      { status: 'completed', n: 4 },
      { status: 'expired', n: 2 },
    ]);
    const balance = await t.http
      .get('/api/credits/balance')
      .set(bearer(token({ sub: user })))
      .expect(200);
    expect(balance.body.heldCredits).toBe(0);
    const expired = await t.db.query(
      `SELECT count(*)::int AS n FROM credit_allocations WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) AND expires_at <= now() AND remaining_credits > 0`,
      [user],
    );
    expect(expired.rows[0].n).toBe(0);
  });
});
