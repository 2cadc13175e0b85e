import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { DomainError, InsufficientCreditsError } from '../src/common/errors/domain-error.js';
import { CreditExpiryJob } from '../src/plans/credit-expiry.job.js';
import { startTestApp, type TestApp, uniqueId } from './support/app.js';
import { expireAllocationNow } from './support/clock.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';
import { Metering } from './support/metering.js';

const DAY = 86_400_000;

/**
 * Holds as production makes and settles them: initialize holds (credits_hold), finalize and abort
 * settle (credits_settle: keep the charge, give the rest back to where it was held from, take an
 * overrun from the balance), a record debits.
 */
describe('credit holds', () => {
  let t: TestApp;
  let f: Fixtures;
  let metering: Metering;
  const users: string[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { granter: tokenFor('supervisor', 'holds-supervisor'), prefix: 'ho', users });
    metering = await Metering.start(t);
  });
  afterEach(() => expectInvariants(t, users));
  afterAll(() => t.close());

  const allocation = async (id: string) =>
    (await t.db.query(`SELECT remaining_credits, expires_at FROM credit_allocations WHERE id = $1`, [id])).rows[0];
  /** The error a call is refused with (the test fails if it succeeds). */
  const failure = (call: () => Promise<unknown>) =>
    call().then(
      () => expect.fail('expected a refusal'),
      (e: unknown) => e as DomainError,
    );

  it('a hold spread over two allocations goes back to both, latest expiry first, keeping expiry', async () => {
    const u = await f.newUser();
    const soon = await f.grant(u.id, { credits: 10, expiryDays: 1 });
    const late = await f.grant(u.id, { credits: 10, expiryDays: 20 });
    const session = uniqueId('s');
    // Estimated 12 → holds 15: all 10 of `soon`, then 5 of `late`.
    await metering.initialize(u.id, session, 12);
    const balance = (await t.http.get('/api/credits/balance').set(u.auth).expect(200)).body;
    expect(balance).toMatchObject({ totalCredits: 5, heldCredits: 15 });
    expect((await t.http.get('/api/users/me').set(u.auth)).body.totalCredits).toBe(5);

    // Finalize charging 3: the 12 given back go to `late` first (5), then to `soon` (7), so the 3
    // that stay charged are the soonest-expiring credits.
    const settled = await metering.finalize(u.id, session, 3);
    expect(settled).toMatchObject({ allocatedCredits: 15, actualCredits: 3, refund: 12, shortfall: 0 });
    expect(await allocation(late.id)).toEqual({ remaining_credits: 10, expires_at: new Date(late.expiresAt) });
    expect(await allocation(soon.id)).toEqual({ remaining_credits: 7, expires_at: new Date(soon.expiresAt) });
    const after = (await t.http.get('/api/credits/balance').set(u.auth).expect(200)).body;
    expect(after).toMatchObject({ totalCredits: 17, heldCredits: 0 });
    // No new allocation rows were created by the refunds.
    const rows = await t.db.query(
      `SELECT count(*)::int AS n FROM credit_allocations WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)`,
      [u.id],
    );
    expect(rows.rows[0].n).toBe(2);
    const entries = await t.db.query(
      `SELECT kind, allocation_id, amount, balance_after::int AS b, session_id FROM credit_ledger WHERE member_id = $1 AND kind <> 'grant' ORDER BY id`,
      [u.id],
    );
    expect(entries.rows.map((r) => [r.kind, r.allocation_id, r.amount, r.b, r.session_id])).toEqual([
      ['hold', soon.id, -10, 10, session],
      ['hold', late.id, -5, 5, session],
      ['release', late.id, 5, 10, session],
      ['release', soon.id, 7, 17, session],
    ]);
  });

  it('an overrun is taken from the balance; a settled session is not settled or held again', async () => {
    const u = await f.newUser();
    await f.grant(u.id, { credits: 12 });
    const session = uniqueId('s');
    await metering.initialize(u.id, session, 5); // holds 6
    const settled = await metering.finalize(u.id, session, 9);
    expect(settled).toMatchObject({ allocatedCredits: 6, actualCredits: 9, refund: 0, shortfall: 0 });
    // The 3 beyond the hold are one debit on the session's usage record.
    const [record] = await f.usageRecordsOf(session);
    expect(record).toMatchObject({ credits: 9, billing_status: 'billed' });
    const ledger = await f.ledger(u.id);
    expect(ledger.filter((l) => l.kind !== 'grant').map((l) => [l.kind, l.amount, l.usage_record_id])).toEqual([
      ['hold', -6, null],
      ['debit', -3, record.id],
    ]);
    const balance = (await t.http.get('/api/credits/balance').set(u.auth).expect(200)).body;
    expect(balance).toMatchObject({ totalCredits: 3, heldCredits: 0, debt: 0 });

    // Settling again, with another charge or by abort, is refused and moves nothing.
    for (const again of [() => metering.finalize(u.id, session, 1), () => metering.abort(u.id, session, 0)]) {
      const refused = await failure(again);
      expect([refused.code, refused.status]).toEqual(['ALREADY_SETTLED', 409]);
    }
    // A second hold on the settled session's id is refused too, and writes nothing.
    const reuse = await failure(() => metering.initialize(u.id, session, 0));
    expect([reuse.code, reuse.status]).toEqual(['SESSION_EXISTS', 409]);
    expect(await f.ledger(u.id)).toEqual(ledger);
    expect(await f.available(u.id)).toBe(3);
  });

  it('a short hold fails with 402 and writes nothing; another user cannot settle it', async () => {
    const u = await f.newUser();
    const other = await f.newUser();
    await f.grant(u.id, { credits: 4 });
    const session = uniqueId('s');
    const short = await failure(() => metering.initialize(u.id, session, 4)); // would hold 5
    expect(short).toBeInstanceOf(InsufficientCreditsError);
    expect([short.status, short.details]).toEqual([402, { requiredCredits: 5, availableCredits: 4 }]);
    const written = `SELECT (SELECT count(*) FROM credit_holds WHERE session_id = $1)::int AS holds,
                            (SELECT count(*) FROM streaming_sessions WHERE session_id = $1)::int AS sessions`;
    expect((await t.db.query(written, [session])).rows[0]).toEqual({ holds: 0, sessions: 0 });
    expect((await f.ledger(u.id)).map((l) => l.kind)).toEqual(['grant']);

    await metering.initialize(u.id, session, 3); // holds 4
    // Session ids are per user: the other user has no session of that id, and u's hold stays whole.
    for (const foreign of [() => metering.finalize(other.id, session, 1), () => metering.abort(other.id, session, 0)]) {
      const refused = await failure(foreign);
      expect([refused.code, refused.status]).toEqual(['NOT_FOUND', 404]);
    }
    const hold = `SELECT outstanding FROM credit_holds WHERE session_id = $1 AND member_id = $2`;
    expect((await t.db.query(hold, [session, u.id])).rows).toEqual([{ outstanding: 4 }]);
    expect(await f.ledger(other.id)).toEqual([]);
    // Nothing gives back more than is held: an abort that used nothing returns exactly the 4.
    expect(await metering.abort(u.id, session, 0)).toMatchObject({ partialCredits: 0, refund: 4, shortfall: 0 });
    expect(await f.available(u.id)).toBe(4);
  });

  it('credits released to an allocation that expired meanwhile expire at once', async () => {
    const u = await f.newUser();
    const brief = await f.grant(u.id, { credits: 8, expiryDays: 1 });
    await f.grant(u.id, { credits: 10, expiryDays: 5 });
    const session = uniqueId('s');
    await metering.initialize(u.id, session, 6); // holds 8, all of `brief`
    await expireAllocationNow(t.db, brief.id);
    const settled = await metering.finalize(u.id, session, 2);
    expect(settled.refund).toBe(6);
    expect((await allocation(brief.id)).remaining_credits).toBe(0);
    const kinds = await t.db.query(`SELECT kind, amount FROM credit_ledger WHERE allocation_id = $1 ORDER BY id`, [
      brief.id,
    ]);
    expect(kinds.rows).toEqual([
      { kind: 'grant', amount: 8 },
      { kind: 'hold', amount: -8 },
      { kind: 'release', amount: 6 },
      { kind: 'expire', amount: -6 },
    ]);
    expect(await f.available(u.id)).toBe(10);
    await t.app.get(CreditExpiryJob).expireDue();
    // The job marks the expired allocation done although nothing was left, and writes no entry.
    const after = await t.db.query(
      `SELECT expiry_done, (SELECT count(*)::int FROM credit_ledger WHERE allocation_id = $1) AS entries
                                      FROM credit_allocations WHERE id = $1`,
      [brief.id],
    );
    expect(after.rows[0]).toEqual({ expiry_done: true, entries: 4 });
  });

  it('the balance lists unexpired allocations with credits left, soonest expiry first', async () => {
    const u = await f.newUser();
    const a = await f.grant(u.id, { credits: 3, expiryDays: 9 });
    const b = await f.grant(u.id, { credits: 4, expiresAt: new Date(Date.now() + 2 * DAY).toISOString() });
    const c = await f.grant(u.id, { credits: 2, expiryDays: 1 });
    await metering.record(u.id, 2);
    const balance = (await t.http.get('/api/credits/balance').set(u.auth).expect(200)).body;
    expect(balance.activeAllocations.map((x: { id: string }) => x.id)).toEqual([b.id, a.id]);
    expect(balance.activeAllocations.map((x: { id: string }) => x.id)).not.toContain(c.id);
    expect(balance.totalCredits).toBe(7);
  });
});
