import pg from 'pg';
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { InsufficientCreditsError } from '../src/common/errors/domain-error.js';
import { CreditExpiryJob } from '../src/credits/credit-expiry.job.js';
import { CreditQueriesService } from '../src/credits/credit-queries.service.js';
import { CreditsService } from '../src/credits/credits.service.js';
import { Transactions } from '../src/database/transactions.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { expireAllocationNow } from './support/clock.js';
import { expectCreditInvariants } from './support/credit-invariants.js';
import { Fixtures, tokenFor } from './support/fixtures.js';

describe('credits under concurrency', () => {
  let t: TestApp;
  let credits: CreditsService;
  let tx: Transactions;
  let f: Fixtures;

  beforeAll(async () => {
    t = await startTestApp({ DB_POOL_SIZE: '20' });
    f = new Fixtures(t, { granter: tokenFor('supervisor', 'concurrency-supervisor'), prefix: 'cc' });
    credits = t.app.get(CreditsService);
    tx = t.app.get(Transactions);
  });
  afterAll(() => t.close());

  /** Runs a debit in its own transaction; resolves to the HTTP status it would answer. */
  const debitStatus = (userId: string, amount: number) =>
    tx
      .run((m) => credits.debit(m, userId, amount, { createdBy: userId }))
      .then(() => 200)
      .catch((e: unknown) => (e instanceof InsufficientCreditsError ? e.status : Promise.reject(e)));

  it('50 parallel debits of 1 against a balance of 20: exactly 20 succeed, 30 get 402', async () => {
    const { id: user } = await f.newUser({ credits: [12, 8] });
    const statuses = await Promise.all(Array.from({ length: 50 }, () => debitStatus(user, 1)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.filter((s) => s === 402)).toHaveLength(30);
    const balance = await t.http
      .get('/api/credits/balance')
      .set(bearer(token({ sub: user })))
      .expect(200);
    expect(balance.body.totalCredits).toBe(0);
    const debits = await t.db.query(
      `SELECT count(*)::int AS n, SUM(amount)::int AS s FROM credit_ledger WHERE user_id = $1 AND kind = 'debit'`,
      [user],
    );
    expect(debits.rows[0]).toEqual({ n: 20, s: -20 });
    // Every entry's balance_after is unique and steps down by one: the debits serialised.
    const after = await t.db.query(
      `SELECT balance_after::int AS b FROM credit_ledger WHERE user_id = $1 AND kind = 'debit' ORDER BY id`,
      [user],
    );
    expect(after.rows.map((r) => r.b)).toEqual(Array.from({ length: 20 }, (_, i) => 19 - i));
    await expectCreditInvariants(t, [user]);
  });

  it('parallel mixed-size debits never overspend', async () => {
    const { id: user } = await f.newUser({ credits: [30, 7] });
    const amounts = Array.from({ length: 30 }, (_, i) => (i % 5) + 1);
    const statuses = await Promise.all(amounts.map((a) => debitStatus(user, a)));
    const spent = amounts.filter((_, i) => statuses[i] === 200).reduce((s, a) => s + a, 0);
    const remaining = await credits.available(t.app.get(CreditQueriesService).readManager, user);
    expect(spent + remaining).toBe(37);
    expect(remaining).toBeLessThan(5); // a debit of 1..5 failed only when the balance was short
    await expectCreditInvariants(t, [user]);
  });

  it('debits of 10 users in parallel all succeed', async () => {
    const users = await Promise.all(Array.from({ length: 10 }, () => f.newUser({ credits: 10 }).then((u) => u.id)));
    const statuses = await Promise.all(users.flatMap((u) => [debitStatus(u, 3), debitStatus(u, 3), debitStatus(u, 4)]));
    expect(statuses.every((s) => s === 200)).toBe(true);
    for (const u of users) expect(await credits.available(t.app.get(CreditQueriesService).readManager, u)).toBe(0);
    await expectCreditInvariants(t, users);
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
      const aDebit = debitStatus(a, 1).then((s) => {
        aDone = true;
        return s;
      });
      // b's debit completes while a's lock is still held (it would wait forever otherwise)…
      expect(await debitStatus(b, 1)).toBe(200);
      // …and a's cannot complete until the lock is released.
      expect(aDone).toBe(false);
      await client.query('COMMIT');
      expect(await aDebit).toBe(200);
    } finally {
      await client.end();
    }
    await expectCreditInvariants(t, [a, b]);
  });

  it('concurrent holds, releases and the expiry job keep the ledger consistent', async () => {
    const { id: user } = await f.newUser({ credits: 40 });
    const short = uniqueId('short');
    // An allocation that expires while the sessions hold, so the expiry job races the settlements.
    const brief = await f.grant(user, { credits: 10, expiryDays: 1 });
    const sessions = Array.from({ length: 10 }, (_, i) => `${short}-${i}`);
    const held = await Promise.all(
      sessions.map((s) =>
        tx
          .run((m) => credits.hold(m, user, 6, { createdBy: user, sessionId: s }))
          .then(() => true)
          .catch((e: unknown) => (e instanceof InsufficientCreditsError ? false : Promise.reject(e))),
      ),
    );
    expect(held.filter(Boolean)).toHaveLength(8); // 50 credits / 6
    await expireAllocationNow(t.db, brief.id);
    const settled = sessions.filter((_, i) => held[i]);
    await Promise.all([
      ...settled.map((s, i) => tx.run((m) => credits.settleHold(m, user, s, i % 7, { createdBy: user }))),
      t.app.get(CreditExpiryJob).expireDue(),
      t.app.get(CreditExpiryJob).expireDue(),
    ]);
    await t.app.get(CreditExpiryJob).expireDue();
    expect(await credits.heldCredits(t.app.get(CreditQueriesService).readManager, user)).toBe(0);
    const expired = await t.db.query(
      `SELECT count(*)::int AS n FROM credit_allocations WHERE user_id = $1 AND expires_at <= now() AND remaining_credits > 0`,
      [user],
    );
    expect(expired.rows[0].n).toBe(0);
    await expectCreditInvariants(t, [user]);
  });
});
