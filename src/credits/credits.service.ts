import { Inject, Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

import { DomainError, InsufficientCreditsError, NotFoundError } from '../common/errors/domain-error.js';
import {
  cursorTimestampSql,
  decodeIdCursor,
  decodeTimeCursor,
  DEFAULT_LIMIT,
  type Page,
  toPage,
} from '../common/http/pagination.js';
import { Transactions } from '../database/transactions.js';
import { AccountsService } from '../users/accounts.service.js';

export interface LedgerRefs {
  createdBy: string;
  usageRecordId?: string | null;
  sessionId?: string | null;
}

export type LedgerKind = 'grant' | 'debit' | 'hold' | 'release' | 'expire' | 'void';

export interface AllocationView {
  id: string;
  userId: string;
  totalCredits: number;
  remainingCredits: number;
  allocatedBy: string;
  allocatedAt: string;
  expiresAt: string;
  notes: string | null;
}

export interface LedgerEntryView {
  id: string;
  userId: string;
  allocationId: string;
  kind: LedgerKind;
  amount: number;
  balanceAfter: number;
  sessionId: string | null;
  usageRecordId: string | null;
  createdBy: string;
  createdAt: string;
}

export interface BalanceView {
  userId: string;
  totalCredits: number;
  heldCredits: number;
  activeAllocations: {
    id: string;
    credits: number;
    totalCredits: number;
    expiresAt: string;
    allocatedAt: string;
    notes: string | null;
  }[];
}

export interface ReconcileMismatch {
  problem: 'remaining_mismatch' | 'negative_remaining' | 'grant_mismatch' | 'hold_mismatch';
  userId: string;
  allocationId: string | null;
  sessionId: string | null;
  expected: number;
  actual: number;
}

interface AllocationRow {
  id: string;
  user_id: string;
  total_credits: number;
  remaining_credits: number;
  allocated_by: string;
  allocated_at: Date;
  expires_at: Date;
  notes: string | null;
}

interface LedgerRow {
  id: string;
  user_id: string;
  allocation_id: string;
  kind: LedgerKind;
  amount: number;
  balance_after: string;
  session_id: string | null;
  usage_record_id: string | null;
  created_by: string;
  created_at: Date;
}

/** One ledger line to write: `amount` is signed and also applied to the allocation's remaining. */
interface Movement {
  allocationId: string;
  amount: number;
  balanceAfter: number;
  kind: LedgerKind;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EXPIRY_BATCH = 500;

function toAllocation(row: AllocationRow): AllocationView {
  return {
    id: row.id,
    userId: row.user_id,
    totalCredits: row.total_credits,
    remainingCredits: row.remaining_credits,
    allocatedBy: row.allocated_by,
    allocatedAt: row.allocated_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    notes: row.notes,
  };
}

function toLedgerEntry(row: LedgerRow): LedgerEntryView {
  return {
    id: String(row.id),
    userId: row.user_id,
    allocationId: row.allocation_id,
    kind: row.kind,
    amount: row.amount,
    balanceAfter: Number(row.balance_after),
    sessionId: row.session_id,
    usageRecordId: row.usage_record_id,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
  };
}

const ALLOCATION_COLUMNS = `id, user_id, total_credits, remaining_credits, allocated_by, allocated_at, expires_at, notes`;

/**
 * The FIFO take as a FROM item: $1 user, $2 amount, $3 kind, $4 strict, $5 session id,
 * $6 usage record id, $7 created by. Its columns: out_available, out_collected, out_balance_after,
 * out_parts (see migration 1732000005000).
 */
export const CREDITS_TAKE_SQL = `credits_take($1, $2::int, $3, $4::boolean, $5, $6::uuid, $7)`;

export interface TakeRow {
  out_available: string;
  out_collected: string;
  out_balance_after: string;
  out_parts: { allocationId: string; amount: number }[];
}

/** Turns credits_take's row into numbers; strict and short → InsufficientCreditsError (nothing was written). */
export function takeResult(
  row: TakeRow,
  amount: number,
  strict: boolean,
): { collected: number; balanceAfter: number; parts: { allocationId: string; amount: number }[] } {
  const available = Number(row.out_available);
  if (strict && available < amount) throw new InsufficientCreditsError(amount, available);
  return { collected: Number(row.out_collected), balanceAfter: Number(row.out_balance_after), parts: row.out_parts };
}

/**
 * The money core. Every credit movement happens inside the caller's transaction (the `manager`),
 * starts with the user's account-row lock (one user's movements serialise, different users never
 * wait on each other), changes `credit_allocations.remaining_credits` and writes one ledger entry per
 * allocation touched, so `remaining = total + Σ non-grant ledger amounts` holds at every commit.
 */
@Injectable()
export class CreditsService {
  private readonly logger = new Logger('Credits');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(AccountsService) private readonly accounts: AccountsService,
    @Inject(Transactions) private readonly tx: Transactions,
  ) {}

  // ---------------------------------------------------------------- agreed API for other modules

  /** Σ remaining credits of the user's unexpired allocations. A plain read: takes no lock. */
  async available(manager: EntityManager, userId: string): Promise<number> {
    const rows: { n: string }[] = await manager.query(
      `SELECT COALESCE(SUM(remaining_credits), 0)::bigint AS n FROM credit_allocations
        WHERE user_id = $1 AND expires_at > now()`,
      [userId],
    );
    return Number(rows[0].n);
  }

  /**
   * Takes `amount` credits, soonest-expiring allocations first (ties: oldest allocation). One
   * `debit` entry per allocation touched. Short → InsufficientCreditsError, nothing written.
   */
  async debit(
    manager: EntityManager,
    userId: string,
    amount: number,
    refs: LedgerRefs,
  ): Promise<{ balanceAfter: number }> {
    const { balanceAfter } = await this.take(manager, userId, amount, 'debit', refs, true);
    return { balanceAfter };
  }

  /** Like `debit`, but takes only what is there (overruns); never throws for shortness. */
  async debitUpTo(
    manager: EntityManager,
    userId: string,
    amount: number,
    refs: LedgerRefs,
  ): Promise<{ collected: number; balanceAfter: number }> {
    const { collected, balanceAfter } = await this.take(manager, userId, amount, 'debit', refs, false);
    return { collected, balanceAfter };
  }

  /**
   * Holds credits for a streaming session (kind `hold`, with session_id). How much came from each
   * allocation stays in the ledger, so `release`/`settleHold` give it back to the same rows.
   */
  async hold(
    manager: EntityManager,
    userId: string,
    amount: number,
    refs: LedgerRefs & { sessionId: string },
  ): Promise<{ parts: { allocationId: string; amount: number }[] }> {
    if (!refs.sessionId) throw new DomainError('VALIDATION', 'a hold needs a sessionId');
    const { parts } = await this.take(manager, userId, amount, 'hold', refs, true);
    const rows: unknown[] = await manager.query(
      `INSERT INTO credit_holds (session_id, user_id, outstanding) VALUES ($1, $2, $3)
       ON CONFLICT (session_id) DO UPDATE SET outstanding = credit_holds.outstanding + EXCLUDED.outstanding
        WHERE credit_holds.user_id = EXCLUDED.user_id AND credit_holds.settled_at IS NULL
       RETURNING session_id`,
      [refs.sessionId, userId, amount],
    );
    if (rows.length === 0)
      throw new DomainError('CONFLICT', 'This session already has a settled hold or belongs to another user');
    return { parts };
  }

  /**
   * Gives `amount` of the session's outstanding hold back to the allocations it was held from
   * (kind `release`, expiry unchanged), latest-expiring parts first, so what stays charged is what
   * expires soonest.
   */
  async release(
    manager: EntityManager,
    userId: string,
    sessionId: string,
    amount: number,
    refs: LedgerRefs,
  ): Promise<void> {
    await this.accounts.lock(manager, userId);
    const hold = await this.lockHold(manager, userId, sessionId);
    if (!hold || hold.settled) throw new DomainError('CONFLICT', 'No active hold for this session');
    if (amount > hold.outstanding) throw new DomainError('CONFLICT', 'Release exceeds the outstanding hold');
    await this.giveBack(manager, userId, sessionId, amount, refs);
    await manager.query(`UPDATE credit_holds SET outstanding = outstanding - $2 WHERE session_id = $1`, [
      sessionId,
      amount,
    ]);
  }

  /**
   * Settles a session's hold: keeps `charge` of it consumed (the soonest-expiring parts), releases
   * the rest to its allocations, and marks the hold settled. Writes nothing else; an overrun
   * (charge > held) is the caller's `debitUpTo`. Settling twice → ALREADY_SETTLED (409).
   */
  async settleHold(
    manager: EntityManager,
    userId: string,
    sessionId: string,
    charge: number,
    refs: LedgerRefs,
  ): Promise<{ held: number; charged: number; refund: number }> {
    if (!Number.isInteger(charge) || charge < 0)
      throw new DomainError('VALIDATION', 'charge must be a non-negative integer');
    await this.accounts.lock(manager, userId);
    const hold = await this.lockHold(manager, userId, sessionId);
    if (hold?.settled) throw new DomainError('ALREADY_SETTLED', 'This session’s hold is already settled');
    const held = hold?.outstanding ?? 0;
    const refund = Math.max(0, held - charge);
    if (refund > 0) await this.giveBack(manager, userId, sessionId, refund, refs);
    await manager.query(
      `INSERT INTO credit_holds (session_id, user_id, outstanding, settled_at) VALUES ($1, $2, 0, now())
       ON CONFLICT (session_id) DO UPDATE SET outstanding = 0, settled_at = now()`,
      [sessionId, userId],
    );
    return { held, charged: held - refund, refund };
  }

  /** Credits held by the user's unsettled sessions (already out of `available`). */
  async heldCredits(manager: EntityManager, userId: string): Promise<number> {
    const rows: { n: string }[] = await manager.query(
      `SELECT COALESCE(SUM(outstanding), 0)::bigint AS n FROM credit_holds WHERE user_id = $1 AND settled_at IS NULL`,
      [userId],
    );
    return Number(rows[0].n);
  }

  /** New allocation with a `grant` ledger entry (+total). The account must exist (404 otherwise). */
  async grant(
    manager: EntityManager,
    input: { userId: string; credits: number; expiresAt: Date; allocatedBy: string; notes?: string | null },
  ): Promise<AllocationView> {
    if (!(await this.accounts.lock(manager, input.userId))) throw new NotFoundError('User');
    const rows: AllocationRow[] = await manager.query(
      `WITH balance AS (
         SELECT COALESCE(SUM(remaining_credits), 0)::bigint AS n FROM credit_allocations
          WHERE user_id = $1 AND expires_at > now()),
       a AS (
         INSERT INTO credit_allocations (user_id, total_credits, remaining_credits, allocated_by, expires_at, notes)
         VALUES ($1, $2, $2, $3, $4, $5) RETURNING ${ALLOCATION_COLUMNS}),
       l AS (
         INSERT INTO credit_ledger (user_id, allocation_id, kind, amount, balance_after, created_by)
         SELECT a.user_id, a.id, 'grant', a.total_credits,
                balance.n + CASE WHEN a.expires_at > now() THEN a.total_credits ELSE 0 END, $3
           FROM a, balance)
       SELECT * FROM a`,
      [input.userId, input.credits, input.allocatedBy, input.expiresAt, input.notes ?? null],
    );
    return toAllocation(rows[0]);
  }

  /**
   * Voids an allocation: its remaining credits leave through one `void` entry and it is marked voided.
   * Voiding again is an idempotent no-op that answers the allocation as it is.
   */
  async void(
    manager: EntityManager,
    allocationId: string,
    input: { voidedBy: string; reason?: string | null },
  ): Promise<AllocationView> {
    const found = await this.findAllocationRow(manager, allocationId);
    if (!found) throw new NotFoundError('Allocation');
    await this.accounts.lock(manager, found.user_id);
    const rows: (AllocationRow & { voided_at: Date | null; active: boolean })[] = await manager.query(
      `SELECT ${ALLOCATION_COLUMNS}, voided_at, expires_at > now() AS active FROM credit_allocations WHERE id = $1 FOR UPDATE`,
      [allocationId],
    );
    const row = rows[0];
    if (row.voided_at === null || row.remaining_credits > 0) {
      const balance = await this.available(manager, row.user_id);
      const after = row.active ? balance - row.remaining_credits : balance;
      if (row.remaining_credits > 0) {
        await this.write(
          manager,
          row.user_id,
          [{ allocationId, amount: -row.remaining_credits, balanceAfter: after, kind: 'void' }],
          {
            createdBy: input.voidedBy,
          },
        );
      }
      await manager.query(
        `UPDATE credit_allocations SET voided_at = COALESCE(voided_at, now()), voided_by = COALESCE(voided_by, $2),
                void_reason = COALESCE(void_reason, $3) WHERE id = $1`,
        [allocationId, input.voidedBy, input.reason ?? null],
      );
    }
    return { ...toAllocation(row), remainingCredits: 0 };
  }

  // ---------------------------------------------------------------- reads for the routes

  /**
   * The manager for a plain read: the request's Idempotency-Key transaction when there is one (a
   * read on another pool connection would hold one connection while waiting for a second), else the pool.
   */
  get readManager(): EntityManager {
    return this.tx.statementManager;
  }

  async balance(userId: string): Promise<BalanceView> {
    // One statement: one snapshot for the allocations and the holds (and one round trip).
    const rows: (Partial<AllocationRow> & { held: string })[] = await this.dataSource.query(
      `SELECT h.held, a.id, a.remaining_credits, a.total_credits, a.expires_at, a.allocated_at, a.notes
         FROM (SELECT COALESCE(SUM(outstanding), 0)::bigint AS held FROM credit_holds
                WHERE user_id = $1 AND settled_at IS NULL) h
         LEFT JOIN LATERAL (
           SELECT id, remaining_credits, total_credits, expires_at, allocated_at, notes FROM credit_allocations
            WHERE user_id = $1 AND expires_at > now() AND remaining_credits > 0) a ON true
        ORDER BY a.expires_at, a.allocated_at, a.id`,
      [userId],
    );
    const allocations = rows.filter((r) => r.id != null) as (AllocationRow & { held: string })[];
    return {
      userId,
      totalCredits: allocations.reduce((sum, a) => sum + a.remaining_credits, 0),
      heldCredits: Number(rows[0].held),
      activeAllocations: allocations.map((a) => ({
        id: a.id,
        credits: a.remaining_credits,
        totalCredits: a.total_credits,
        expiresAt: a.expires_at.toISOString(),
        allocatedAt: a.allocated_at.toISOString(),
        notes: a.notes,
      })),
    };
  }

  async userExists(userId: string): Promise<boolean> {
    return this.accounts.exists(this.dataSource.manager, userId);
  }

  /** Allocations newest first; expired ones only with includeExpired. */
  async listAllocations(query: {
    userId: string;
    includeExpired?: boolean;
    limit?: number;
    cursor?: string;
  }): Promise<Page<AllocationView>> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = decodeTimeCursor(query.cursor, 'uuid');
    const params: unknown[] = [query.userId];
    const where = ['user_id = $1'];
    if (!query.includeExpired) where.push('expires_at > now()');
    if (after) {
      params.push(after.t, after.id);
      where.push(`(allocated_at, id) < ($2::timestamptz, $3::uuid)`);
    }
    params.push(limit + 1);
    // The cursor keeps microseconds (a JS Date would round them and skip rows across pages).
    const rows: (AllocationRow & { cursor_t: string })[] = await this.dataSource.query(
      `SELECT ${ALLOCATION_COLUMNS}, ${cursorTimestampSql('allocated_at')} AS cursor_t FROM credit_allocations
        WHERE ${where.join(' AND ')}
        ORDER BY allocated_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return toPage(rows, limit, toAllocation, (r) => ({ t: r.cursor_t, id: r.id }));
  }

  /** Ledger entries newest first (id order is insertion order). */
  async listLedger(query: { userId: string; limit?: number; cursor?: string }): Promise<Page<LedgerEntryView>> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = decodeIdCursor(query.cursor);
    const params: unknown[] = [query.userId];
    let where = 'user_id = $1';
    if (after) {
      params.push(after.id);
      where += ' AND id < $2::bigint';
    }
    params.push(limit + 1);
    const rows: LedgerRow[] = await this.dataSource.query(
      `SELECT id, user_id, allocation_id, kind, amount, balance_after, session_id, usage_record_id, created_by, created_at
         FROM credit_ledger WHERE ${where} ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    return toPage(rows, limit, toLedgerEntry, (r) => ({ id: String(r.id) }));
  }

  /**
   * Checks invariant 2 for every allocation (remaining = total + Σ non-grant entries, exactly one
   * grant of +total, remaining never negative) and that every unsettled hold equals what its
   * hold/release entries still hold. One REPEATABLE READ snapshot, so concurrent writers never show
   * up as false mismatches.
   */
  async reconcile(): Promise<{ checkedAllocations: number; mismatches: ReconcileMismatch[] }> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction('REPEATABLE READ');
      const [{ n }]: { n: string }[] = await runner.query(`SELECT count(*)::bigint AS n FROM credit_allocations`);
      const allocationProblems: {
        problem: ReconcileMismatch['problem'];
        user_id: string;
        allocation_id: string;
        expected: string;
        actual: string;
      }[] = await runner.query(
        `WITH sums AS (
             SELECT a.id, a.user_id, a.total_credits, a.remaining_credits,
                    COALESCE(SUM(l.amount) FILTER (WHERE l.kind <> 'grant'), 0) AS moved,
                    COALESCE(SUM(l.amount) FILTER (WHERE l.kind = 'grant'), 0) AS granted,
                    COUNT(l.id) FILTER (WHERE l.kind = 'grant') AS grants
               FROM credit_allocations a LEFT JOIN credit_ledger l ON l.allocation_id = a.id
              GROUP BY a.id)
           SELECT 'remaining_mismatch' AS problem, user_id, id AS allocation_id,
                  (total_credits + moved)::bigint AS expected, remaining_credits::bigint AS actual
             FROM sums WHERE remaining_credits <> total_credits + moved
           UNION ALL
           SELECT 'negative_remaining', user_id, id, 0, remaining_credits FROM sums WHERE remaining_credits < 0
           UNION ALL
           SELECT 'grant_mismatch', user_id, id, total_credits, granted FROM sums WHERE grants <> 1 OR granted <> total_credits`,
      );
      const holdProblems: { user_id: string; session_id: string; expected: string; actual: string }[] =
        await runner.query(
          `SELECT h.session_id, h.user_id, h.outstanding::bigint AS actual, (-COALESCE(SUM(l.amount), 0))::bigint AS expected
           FROM credit_holds h
           LEFT JOIN credit_ledger l ON l.session_id = h.session_id AND l.kind IN ('hold', 'release')
          WHERE h.settled_at IS NULL
          GROUP BY h.session_id
         HAVING h.outstanding <> -COALESCE(SUM(l.amount), 0)`,
        );
      await runner.commitTransaction();
      return {
        checkedAllocations: Number(n),
        mismatches: [
          ...allocationProblems.map((r) => ({
            problem: r.problem,
            userId: r.user_id,
            allocationId: r.allocation_id,
            sessionId: null,
            expected: Number(r.expected),
            actual: Number(r.actual),
          })),
          ...holdProblems.map((r) => ({
            problem: 'hold_mismatch' as const,
            userId: r.user_id,
            allocationId: null,
            sessionId: r.session_id,
            expected: Number(r.expected),
            actual: Number(r.actual),
          })),
        ],
      };
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      throw error;
    } finally {
      await runner.release();
    }
  }

  // ---------------------------------------------------------------- expiry

  @Cron(CronExpression.EVERY_MINUTE, { name: 'credits-expiry' })
  async runExpiryJob(): Promise<void> {
    try {
      const expired = await this.expireDue();
      if (expired > 0) this.logger.log({ msg: 'expired allocations', count: expired });
    } catch (error) {
      this.logger.warn({ msg: 'credit expiry failed; retried next minute', err: (error as Error).message });
    }
  }

  /**
   * Processes every expired allocation not yet processed (`expiry_done`, migration 1732000006000):
   * one `expire` entry for each that still has credits, remaining set to 0, and marks it done (also
   * when nothing was left), so the job's index holds only what is still due. Idempotent; several
   * instances may run it at once (rows another one holds are skipped, as are rows a user transaction
   * is moving right now: the next run gets them). Returns the number of `expire` entries written.
   */
  async expireDue(): Promise<number> {
    let total = 0;
    for (;;) {
      const rows: { processed: string; expired: string }[] = await this.dataSource.query(
        `WITH due AS (
           SELECT id, user_id, remaining_credits FROM credit_allocations
            WHERE expires_at <= now() AND NOT expiry_done
            ORDER BY expires_at LIMIT ${EXPIRY_BATCH}
            FOR UPDATE SKIP LOCKED),
         zeroed AS (
           UPDATE credit_allocations a SET remaining_credits = 0, expiry_done = true FROM due WHERE a.id = due.id RETURNING a.id),
         entries AS (
           INSERT INTO credit_ledger (user_id, allocation_id, kind, amount, balance_after, created_by)
           SELECT due.user_id, due.id, 'expire', -due.remaining_credits,
                  (SELECT COALESCE(SUM(c.remaining_credits), 0) FROM credit_allocations c
                    WHERE c.user_id = due.user_id AND c.expires_at > now()),
                  'system'
             FROM due JOIN zeroed ON zeroed.id = due.id
            WHERE due.remaining_credits > 0
           RETURNING id)
         SELECT (SELECT count(*) FROM zeroed) AS processed, (SELECT count(*) FROM entries) AS expired`,
      );
      total += Number(rows[0].expired);
      if (Number(rows[0].processed) < EXPIRY_BATCH) return total;
    }
  }

  // ---------------------------------------------------------------- internals

  private async findAllocationRow(manager: EntityManager, allocationId: string): Promise<AllocationRow | null> {
    if (!UUID.test(allocationId)) return null;
    const rows: AllocationRow[] = await manager.query(
      `SELECT ${ALLOCATION_COLUMNS} FROM credit_allocations WHERE id = $1`,
      [allocationId],
    );
    return rows[0] ?? null;
  }

  /**
   * Shared by debit, debitUpTo and hold: lock the account row, lock the spendable allocations, pick
   * FIFO and write, in ONE round trip (the `credits_take` function, migration 1732000005000).
   */
  private async take(
    manager: EntityManager,
    userId: string,
    amount: number,
    kind: 'debit' | 'hold',
    refs: LedgerRefs,
    strict: boolean,
  ): Promise<{ collected: number; balanceAfter: number; parts: { allocationId: string; amount: number }[] }> {
    if (!Number.isInteger(amount) || amount < 0)
      throw new DomainError('VALIDATION', 'amount must be a non-negative integer');
    const rows: TakeRow[] = await manager.query(`SELECT * FROM ${CREDITS_TAKE_SQL}`, [
      userId,
      amount,
      kind,
      strict,
      refs.sessionId ?? null,
      refs.usageRecordId ?? null,
      refs.createdBy,
    ]);
    return takeResult(rows[0], amount, strict);
  }

  private async lockHold(
    manager: EntityManager,
    userId: string,
    sessionId: string,
  ): Promise<{ outstanding: number; settled: boolean } | null> {
    const rows: { outstanding: number; settled: boolean; user_id: string }[] = await manager.query(
      `SELECT outstanding, settled_at IS NOT NULL AS settled, user_id FROM credit_holds WHERE session_id = $1 FOR UPDATE`,
      [sessionId],
    );
    if (rows.length === 0) return null;
    if (rows[0].user_id !== userId) throw new NotFoundError('Hold');
    return rows[0];
  }

  /**
   * Returns `amount` of the session's held credits to the allocations they came from, latest expiry
   * first. Credits that go back to an allocation that has expired (or was voided) meanwhile leave
   * again at once (a `release` then an `expire`/`void` entry), so nothing dead ever looks spendable.
   */
  private async giveBack(
    manager: EntityManager,
    userId: string,
    sessionId: string,
    amount: number,
    refs: LedgerRefs,
  ): Promise<void> {
    if (amount === 0) return;
    const parts: { allocation_id: string; outstanding: string; active: boolean; voided: boolean; available: string }[] =
      await manager.query(
        `SELECT l.allocation_id, (-SUM(l.amount))::bigint AS outstanding, a.expires_at > now() AS active,
              a.voided_at IS NOT NULL AS voided,
              (SELECT COALESCE(SUM(c.remaining_credits), 0) FROM credit_allocations c
                WHERE c.user_id = $2 AND c.expires_at > now())::bigint AS available
         FROM credit_ledger l JOIN credit_allocations a ON a.id = l.allocation_id
        WHERE l.session_id = $1 AND l.user_id = $2 AND l.kind IN ('hold', 'release')
        GROUP BY l.allocation_id, a.expires_at, a.allocated_at, a.voided_at
       HAVING SUM(l.amount) < 0
        ORDER BY a.expires_at DESC, a.allocated_at DESC, l.allocation_id DESC`,
        [sessionId, userId],
      );
    let balance = parts.length ? Number(parts[0].available) : 0;
    let left = amount;
    const movements: Movement[] = [];
    for (const part of parts) {
      if (left === 0) break;
      const give = Math.min(left, Number(part.outstanding));
      left -= give;
      if (part.active && !part.voided) {
        balance += give;
        movements.push({ allocationId: part.allocation_id, amount: give, balanceAfter: balance, kind: 'release' });
      } else {
        movements.push({ allocationId: part.allocation_id, amount: give, balanceAfter: balance, kind: 'release' });
        movements.push({
          allocationId: part.allocation_id,
          amount: -give,
          balanceAfter: balance,
          kind: part.voided ? 'void' : 'expire',
        });
      }
    }
    if (left > 0) throw new DomainError('CONFLICT', 'Release exceeds what the session holds');
    await this.write(manager, userId, movements, { ...refs, sessionId });
  }

  /**
   * Applies movements to the allocations and appends their ledger entries in ONE statement
   * (entries get ascending ids in the given order).
   */
  private async write(manager: EntityManager, userId: string, movements: Movement[], refs: LedgerRefs): Promise<void> {
    if (movements.length === 0) return;
    const params: unknown[] = [userId, refs.sessionId ?? null, refs.usageRecordId ?? null, refs.createdBy];
    const values = movements.map((m, i) => {
      params.push(m.allocationId, m.amount, m.balanceAfter, m.kind);
      const p = params.length;
      return `(${i}, $${p - 3}::uuid, $${p - 2}::int, $${p - 1}::bigint, $${p}::varchar)`;
    });
    await manager.query(
      `WITH v(ord, allocation_id, amount, balance_after, kind) AS (VALUES ${values.join(', ')}),
       net AS (SELECT allocation_id, SUM(amount)::int AS amount FROM v GROUP BY allocation_id),
       upd AS (
         UPDATE credit_allocations a SET remaining_credits = a.remaining_credits + net.amount,
                -- credits put back into an allocation make it due for the expiry job again (a no-op,
                -- so still a HOT update, for the unexpired allocations releases normally go to)
                expiry_done = a.expiry_done AND net.amount < 0
           FROM net WHERE a.id = net.allocation_id AND net.amount <> 0 RETURNING a.id)
       INSERT INTO credit_ledger (user_id, allocation_id, kind, amount, balance_after, session_id, usage_record_id, created_by)
       SELECT $1, v.allocation_id, v.kind, v.amount, v.balance_after, $2, $3::uuid, $4 FROM v ORDER BY v.ord`,
      params,
    );
  }
}
