import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

import { cursorTimestampSql } from '../common/http/pagination.js';
import type { ReconcileMismatch } from '../engine/credit-views.js';
import { amountIn } from './purchase-money.js';
import type { PurchaseStatus, RefundOrigin } from './purchase-status.js';

/** A purchase row as the queries answer it, with its allocation's id (null until paid). */
export interface PurchaseRow {
  id: string;
  account_id: string;
  user_id: string | null;
  org_id: string | null;
  credits: number;
  amount: string;
  currency: string;
  provider: string;
  provider_ref: string | null;
  provider_payment_id: string | null;
  expiry_days: number;
  package_id: string | null;
  bonus_credits: number;
  status: PurchaseStatus;
  status_before_dispute: PurchaseStatus | null;
  refunded_credits: number;
  refunded_amount: string;
  provider_refunded_amount: string;
  disputed_credits: number;
  debt_created: number;
  auto_recharge_attempt_id: string | null;
  reason: string | null;
  created_by: string;
  created_at: Date;
  paid_at: Date | null;
  closed_at: Date | null;
  allocation_id: string | null;
}

export interface RefundRow {
  id: string;
  purchase_id: string;
  origin: RefundOrigin;
  credits: number;
  debt: number;
  amount: string;
  reason: string | null;
  created_by: string;
  created_at: Date;
}

/**
 * During a dispute, what its lot has frozen now (a read of the credits module's ledger): the credits
 * frozen when it opened plus those sessions gave back to the lot since (frozen as they arrived).
 */
const DISPUTED_CREDITS = `CASE WHEN p.status = 'disputed' THEN
    (SELECT COALESCE(-sum(l.amount), 0)::int FROM credit_allocations a JOIN credit_ledger l ON l.allocation_id = a.id
      WHERE a.purchase_id = p.id AND l.kind IN ('freeze', 'unfreeze'))
  ELSE p.disputed_credits END AS disputed_credits`;

const PURCHASE_COLUMNS = `p.id, p.account_id, p.user_id, p.org_id, p.credits, p.amount, p.currency, p.provider, p.provider_ref,
  p.provider_payment_id, p.expiry_days, p.package_id, p.bonus_credits, p.status, p.status_before_dispute, p.refunded_credits,
  p.refunded_amount, p.provider_refunded_amount, ${DISPUTED_CREDITS}, p.debt_created, p.auto_recharge_attempt_id, p.reason,
  p.created_by,
  p.created_at, p.paid_at, p.closed_at, (SELECT a.id FROM credit_allocations a WHERE a.purchase_id = p.id) AS allocation_id`;

/** A row's money as the API shows it, in its currency's places (the columns keep 4: "10.0000"). */
function inPlaces<T extends PurchaseRow>(row: T): T {
  return {
    ...row,
    amount: amountIn(row.amount, row.currency),
    refunded_amount: amountIn(row.refunded_amount, row.currency),
    provider_refunded_amount: amountIn(row.provider_refunded_amount, row.currency),
  };
}

/** The columns a state change may set (snake_case as in the table). */
export type PurchaseChange = Partial<
  Pick<
    PurchaseRow,
    | 'status'
    | 'status_before_dispute'
    | 'provider_payment_id'
    | 'refunded_credits'
    | 'refunded_amount'
    | 'provider_refunded_amount'
    | 'disputed_credits'
    | 'debt_created'
    | 'reason'
    | 'paid_at'
    | 'closed_at'
  >
>;

/** The purchases module's SQL: purchases, their refunds, provider event ids, and the org role read. */
@Injectable()
export class PurchasesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** A new purchase; null when its (provider, providerRef) is taken. */
  async insert(
    manager: EntityManager,
    input: {
      accountId: string;
      userId: string | null;
      orgId: string | null;
      credits: number;
      amount: string;
      currency: string;
      provider: string;
      providerRef: string | null;
      expiryDays: number;
      packageId: string | null;
      bonusCredits: number;
      autoRechargeAttemptId: string | null;
      createdBy: string;
    },
  ): Promise<PurchaseRow | null> {
    const rows: { id: string }[] = await manager.query(
      `INSERT INTO purchases (account_id, user_id, org_id, credits, amount, currency, provider, provider_ref, expiry_days,
                              auto_recharge_attempt_id, created_by, package_id, bonus_credits)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       ON CONFLICT (provider, provider_ref) DO NOTHING RETURNING id`,
      [
        input.accountId,
        input.userId,
        input.orgId,
        input.credits,
        input.amount,
        input.currency,
        input.provider,
        input.providerRef,
        input.expiryDays,
        input.autoRechargeAttemptId,
        input.createdBy,
        input.packageId,
        input.bonusCredits,
      ],
    );
    return rows[0] ? this.find(manager, rows[0].id) : null;
  }

  /** A purchase's owner columns (null: no such purchase): the access guard's read of the account it is for. */
  async owners(manager: EntityManager, id: string): Promise<{ user_id: string | null; org_id: string | null } | null> {
    const rows: { user_id: string | null; org_id: string | null }[] = await manager.query(
      `SELECT user_id, org_id FROM purchases WHERE id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  async find(manager: EntityManager, id: string): Promise<PurchaseRow | null> {
    const rows: PurchaseRow[] = await manager.query(`SELECT ${PURCHASE_COLUMNS} FROM purchases p WHERE p.id = $1`, [
      id,
    ]);
    return rows[0] ? inPlaces(rows[0]) : null;
  }

  /**
   * The purchase locked: its state changes one at a time, before the account lock. FOR NO KEY UPDATE,
   * not FOR UPDATE: a transaction that updates the purchase's lot twice (settlements that arrive
   * together) rechecks the lot's foreign key from the second update on, a key-share lock on the
   * purchase; FOR UPDATE would make it wait for this transaction while this one waits for its account.
   */
  async lock(manager: EntityManager, id: string): Promise<PurchaseRow | null> {
    const locked: unknown[] = await manager.query(`SELECT 1 FROM purchases WHERE id = $1 FOR NO KEY UPDATE`, [id]);
    // Read in a statement of its own, after the lock: a waiter's snapshot must see the allocation the
    // holder granted (a subquery of the locking statement would still read the older snapshot).
    return locked.length > 0 ? this.find(manager, id) : null;
  }

  /** The purchase a provider's payment id names (Stripe: the payment intent kept at payment). */
  async idByPayment(manager: EntityManager, provider: string, paymentId: string): Promise<string | null> {
    const rows: { id: string }[] = await manager.query(
      `SELECT id FROM purchases WHERE provider = $1 AND provider_payment_id = $2 ORDER BY created_at LIMIT 1`,
      [provider, paymentId],
    );
    return rows[0]?.id ?? null;
  }

  async update(manager: EntityManager, id: string, change: PurchaseChange): Promise<PurchaseRow> {
    const entries = Object.entries(change).filter(([, v]) => v !== undefined);
    const sets = entries.map(([column], i) => `${column} = $${i + 2}`);
    await manager.query(`UPDATE purchases SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE id = $1`, [
      id,
      ...entries.map(([, v]) => v),
    ]);
    return (await this.find(manager, id))!;
  }

  async insertRefund(
    manager: EntityManager,
    input: {
      purchaseId: string;
      origin: RefundOrigin;
      credits: number;
      debt: number;
      amount: string;
      reason: string | null;
      createdBy: string;
    },
  ): Promise<RefundRow> {
    const rows: RefundRow[] = await manager.query(
      `INSERT INTO purchase_refunds (purchase_id, origin, credits, debt, amount, reason, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
      [input.purchaseId, input.origin, input.credits, input.debt, input.amount, input.reason, input.createdBy],
    );
    // The amount as given (in the purchase currency's places), not as the column writes it.
    return { ...rows[0], amount: input.amount };
  }

  /** Claims a provider event id: false when it was seen before (nothing must change then). */
  async claimEvent(
    manager: EntityManager,
    input: { provider: string; eventId: string; type: string; purchaseId: string | null },
  ): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `INSERT INTO purchase_provider_events (provider, event_id, type, purchase_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT DO NOTHING RETURNING event_id`,
      [input.provider, input.eventId, input.type, input.purchaseId],
    );
    return rows.length > 0;
  }

  /** Purchases newest first, of one account or all; the cursor keeps microseconds. */
  async list(query: {
    /** The account's (resolved at the edge: src/accounts/account-resolver.ts); absent: every account's. */
    accountId?: string;
    status?: PurchaseStatus;
    after: { t: string; id: string } | null;
    limit: number;
  }): Promise<(PurchaseRow & { cursor_t: string })[]> {
    const params: unknown[] = [];
    const where: string[] = [];
    if (query.accountId !== undefined) {
      params.push(query.accountId);
      where.push(`p.account_id = $${params.length}::bigint`);
    }
    if (query.status !== undefined) {
      params.push(query.status);
      where.push(`p.status = $${params.length}`);
    }
    if (query.after) {
      params.push(query.after.t, query.after.id);
      where.push(`(p.created_at, p.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(query.limit + 1);
    const rows: (PurchaseRow & { cursor_t: string })[] = await this.dataSource.query(
      `SELECT ${PURCHASE_COLUMNS}, ${cursorTimestampSql('p.created_at')} AS cursor_t FROM purchases p
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY p.created_at DESC, p.id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(inPlaces);
  }

  /**
   * Reconcile's purchase check (PurchasesService.refundedLotsWithCredits): a wholly refunded or
   * charged-back purchase's lot has no credits left (a session's settlement once gave held ones back
   * to it after the refund, spendable again: docs/purchases.md). Read with reconcile's `manager`.
   */
  async refundedLotsWithCredits(manager: EntityManager): Promise<ReconcileMismatch[]> {
    const rows: { user_id: string | null; org_id: string | null; allocation_id: string; remaining: number }[] =
      await manager.query(
        `SELECT p.user_id, p.org_id, a.id AS allocation_id, a.remaining_credits AS remaining
           FROM purchases p JOIN credit_allocations a ON a.purchase_id = p.id
          WHERE p.status IN ('refunded', 'charged_back') AND a.remaining_credits > 0`,
      );
    return rows.map((r) => ({
      problem: 'purchase_mismatch',
      userId: r.user_id,
      orgId: r.org_id,
      allocationId: r.allocation_id,
      sessionId: null,
      expected: 0,
      actual: Number(r.remaining),
    }));
  }
}
