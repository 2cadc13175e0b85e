import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DomainError } from '../src/common/errors/domain-error.js';
import { CreditExpiryJob } from '../src/credits/credit-expiry.job.js';
import { CreditQueriesService } from '../src/credits/credit-queries.service.js';
import { CreditsService } from '../src/credits/credits.service.js';
import { Transactions } from '../src/database/transactions.js';
import { startTestApp, type TestApp, uniqueId } from './support/app.js';
import { expireAllocationNow } from './support/clock.js';
import { expectCreditInvariants } from './support/credit-invariants.js';
import { Fixtures, tokenFor } from './support/fixtures.js';

const DAY = 86_400_000;

/** The service API StreamingSessions builds on: hold → release / settleHold (+ debitUpTo for overruns). */
describe('credit holds', () => {
  let t: TestApp;
  let credits: CreditsService;
  let tx: Transactions;
  let f: Fixtures;

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { granter: tokenFor('supervisor', 'holds-supervisor'), prefix: 'ho' });
    credits = t.app.get(CreditsService);
    tx = t.app.get(Transactions);
  });
  afterAll(() => t.close());

  const remaining = async (id: string) =>
    (await t.db.query(`SELECT remaining_credits, expires_at FROM credit_allocations WHERE id = $1`, [id])).rows[0];

  it('a hold spread over two allocations is released to both, latest expiry first, keeping expiry', async () => {
    const u = await f.newUser();
    const soon = await f.grant(u.id, { credits: 10, expiryDays: 1 });
    const late = await f.grant(u.id, { credits: 10, expiryDays: 20 });
    const session = uniqueId('s');
    const { parts } = await tx.run((m) => credits.hold(m, u.id, 15, { createdBy: u.id, sessionId: session }));
    expect(parts).toEqual([
      { allocationId: soon.id, amount: 10 },
      { allocationId: late.id, amount: 5 },
    ]);
    const balance = (await t.http.get('/api/credits/balance').set(u.auth).expect(200)).body;
    expect(balance).toMatchObject({ totalCredits: 5, heldCredits: 15 });
    expect((await t.http.get('/api/users/me').set(u.auth)).body.totalCredits).toBe(5);

    // Release 7: 5 go back to `late` first, then 2 to `soon`.
    await tx.run((m) => credits.release(m, u.id, session, 7, { createdBy: u.id }));
    expect((await remaining(late.id)).remaining_credits).toBe(10);
    expect((await remaining(soon.id)).remaining_credits).toBe(2);
    expect((await remaining(soon.id)).expires_at.toISOString()).toBe(soon.expiresAt);
    expect(await credits.heldCredits(t.app.get(CreditQueriesService).readManager, u.id)).toBe(8);

    // Settle charging 3 of the 8 still held: 5 come back to `soon`, the charged 3 stay consumed.
    const settled = await tx.run((m) => credits.settleHold(m, u.id, session, 3, { createdBy: u.id }));
    expect(settled).toEqual({ held: 8, charged: 3, refund: 5, apiKeyId: null });
    expect((await remaining(soon.id)).remaining_credits).toBe(7);
    const after = (await t.http.get('/api/credits/balance').set(u.auth).expect(200)).body;
    expect(after).toMatchObject({ totalCredits: 17, heldCredits: 0 });
    // No new allocation rows were created by the refunds.
    const rows = await t.db.query(`SELECT count(*)::int AS n FROM credit_allocations WHERE user_id = $1`, [u.id]);
    expect(rows.rows[0].n).toBe(2);
    const entries = await t.db.query(
      `SELECT kind, allocation_id, amount, balance_after::int AS b, session_id FROM credit_ledger WHERE user_id = $1 AND kind <> 'grant' ORDER BY id`,
      [u.id],
    );
    expect(entries.rows.map((r) => [r.kind, r.allocation_id, r.amount, r.b, r.session_id])).toEqual([
      ['hold', soon.id, -10, 10, session],
      ['hold', late.id, -5, 5, session],
      ['release', late.id, 5, 10, session],
      ['release', soon.id, 2, 12, session],
      ['release', soon.id, 5, 17, session],
    ]);
    await expectCreditInvariants(t, [u.id]);
  });

  it('settling twice is refused; an overrun is the caller’s debitUpTo', async () => {
    const u = await f.newUser();
    await f.grant(u.id, { credits: 12 });
    const session = uniqueId('s');
    await tx.run((m) => credits.hold(m, u.id, 6, { createdBy: u.id, sessionId: session }));
    const result = await tx.run(async (m) => {
      const settle = await credits.settleHold(m, u.id, session, 9, { createdBy: u.id });
      const overrun = await credits.debitUpTo(m, u.id, settle.refund === 0 ? 9 - settle.held : 0, {
        createdBy: u.id,
        sessionId: session,
      });
      return { settle, overrun };
    });
    expect(result).toEqual({
      settle: { held: 6, charged: 6, refund: 0, apiKeyId: null },
      overrun: { collected: 3, debt: 0, balanceAfter: 3 },
    });
    const again = await tx
      .run((m) => credits.settleHold(m, u.id, session, 9, { createdBy: u.id }))
      .catch((e: unknown) => e);
    expect(again).toBeInstanceOf(DomainError);
    expect((again as DomainError).status).toBe(409);
    // A second hold on a settled session is refused too, and writes nothing.
    const reuse = await tx
      .run((m) => credits.hold(m, u.id, 1, { createdBy: u.id, sessionId: session }))
      .catch((e: unknown) => e);
    expect((reuse as DomainError).status).toBe(409);
    expect(await credits.available(t.app.get(CreditQueriesService).readManager, u.id)).toBe(3);
    await expectCreditInvariants(t, [u.id]);
  });

  it('a short hold fails with 402 and writes nothing; another user has no hold of that session id', async () => {
    const u = await f.newUser();
    const other = await f.newUser();
    await f.grant(u.id, { credits: 4 });
    const session = uniqueId('s');
    const short = await tx
      .run((m) => credits.hold(m, u.id, 5, { createdBy: u.id, sessionId: session }))
      .catch((e: unknown) => e);
    expect((short as DomainError).status).toBe(402);
    expect(
      (await t.db.query(`SELECT count(*)::int AS n FROM credit_holds WHERE session_id = $1`, [session])).rows[0].n,
    ).toBe(0);
    await tx.run((m) => credits.hold(m, u.id, 4, { createdBy: u.id, sessionId: session }));
    const foreign = await tx
      .run((m) => credits.release(m, other.id, session, 1, { createdBy: other.id }))
      .catch((e: unknown) => e);
    // Session ids are per user: the other user has no hold of that id, and u's stays whole.
    expect((foreign as DomainError).code).toBe('CONFLICT');
    expect(
      (await t.db.query(`SELECT outstanding FROM credit_holds WHERE session_id = $1 AND user_id = $2`, [session, u.id]))
        .rows,
    ).toEqual([{ outstanding: 4 }]);
    const tooMuch = await tx
      .run((m) => credits.release(m, u.id, session, 5, { createdBy: u.id }))
      .catch((e: unknown) => e);
    expect((tooMuch as DomainError).status).toBe(409);
    await expectCreditInvariants(t, [u.id, other.id]);
  });

  it('credits released to an allocation that expired meanwhile expire at once', async () => {
    const u = await f.newUser();
    const brief = await f.grant(u.id, { credits: 8, expiryDays: 1 });
    await f.grant(u.id, { credits: 10, expiryDays: 5 });
    const session = uniqueId('s');
    await tx.run((m) => credits.hold(m, u.id, 8, { createdBy: u.id, sessionId: session }));
    await expireAllocationNow(t.db, brief.id);
    const settled = await tx.run((m) => credits.settleHold(m, u.id, session, 2, { createdBy: u.id }));
    expect(settled.refund).toBe(6);
    expect((await remaining(brief.id)).remaining_credits).toBe(0);
    const kinds = await t.db.query(`SELECT kind, amount FROM credit_ledger WHERE allocation_id = $1 ORDER BY id`, [
      brief.id,
    ]);
    expect(kinds.rows).toEqual([
      { kind: 'grant', amount: 8 },
      { kind: 'hold', amount: -8 },
      { kind: 'release', amount: 6 },
      { kind: 'expire', amount: -6 },
    ]);
    expect(await credits.available(t.app.get(CreditQueriesService).readManager, u.id)).toBe(10);
    await t.app.get(CreditExpiryJob).expireDue();
    // The job marks the expired allocation done although nothing was left, and writes no entry.
    const after = await t.db.query(
      `SELECT expiry_done, (SELECT count(*)::int FROM credit_ledger WHERE allocation_id = $1) AS entries
                                      FROM credit_allocations WHERE id = $1`,
      [brief.id],
    );
    expect(after.rows[0]).toEqual({ expiry_done: true, entries: 4 });
    await expectCreditInvariants(t, [u.id]);
  });

  it('the balance lists unexpired allocations with credits left, soonest expiry first', async () => {
    const u = await f.newUser();
    const a = await f.grant(u.id, { credits: 3, expiryDays: 9 });
    const b = await f.grant(u.id, { credits: 4, expiresAt: new Date(Date.now() + 2 * DAY).toISOString() });
    const c = await f.grant(u.id, { credits: 2, expiryDays: 1 });
    await tx.run((m) => credits.debit(m, u.id, 2, { createdBy: u.id }));
    const balance = (await t.http.get('/api/credits/balance').set(u.auth).expect(200)).body;
    expect(balance.activeAllocations.map((x: { id: string }) => x.id)).toEqual([b.id, a.id]);
    expect(balance.activeAllocations.map((x: { id: string }) => x.id)).not.toContain(c.id);
    expect(balance.totalCredits).toBe(7);
  });
});
