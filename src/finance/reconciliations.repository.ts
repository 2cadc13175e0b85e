import { Injectable } from '@nestjs/common';
import { type EntityManager, In } from 'typeorm';

import { cursorTimestampSql } from '../common/http/pagination.js';
import { fromMinor, toMinor } from '../common/money/currencies.js';
import { Reconciliation } from './entities/reconciliation.entity.js';
import type { PurchaseFacts, ReconciliationResult } from './reconciliation-report.js';

interface PurchaseFactsRow {
  id: string;
  payment_intent_id: string;
  amount: string;
  currency: string;
  refunded_amount: string;
  status: string;
  paid_at: Date;
}

/** A stored amount (4 places) in its currency's places, as the purchase view shows it. */
const inPlaces = (amount: string, currency: string) => fromMinor(toMinor(amount, currency), currency);

const toFacts = (r: PurchaseFactsRow): PurchaseFacts => ({
  id: r.id,
  paymentIntentId: r.payment_intent_id,
  amount: inPlaces(r.amount, r.currency),
  currency: r.currency,
  refundedAmount: inPlaces(r.refunded_amount, r.currency),
  status: r.status,
  paidAt: r.paid_at,
});

/** What a Stripe purchase says to a reconciliation (the refunded amount as its view shows it). */
const PURCHASE_FACTS = `
  SELECT id, provider_payment_id AS payment_intent_id, amount::text AS amount, currency,
         GREATEST(refunded_amount, provider_refunded_amount)::text AS refunded_amount, status, paid_at
    FROM purchases`;

/**
 * The reconciliations' rows, and the reads of Stripe purchases they match against (read only:
 * purchases belong to the purchases module, which nothing here writes).
 */
@Injectable()
export class ReconciliationsRepository {
  async purchasesPaidWith(manager: EntityManager, paymentIntents: string[]): Promise<PurchaseFacts[]> {
    if (paymentIntents.length === 0) return [];
    const rows: PurchaseFactsRow[] = await manager.query(
      `${PURCHASE_FACTS}
        WHERE provider = 'stripe' AND provider_payment_id = ANY($1::varchar[]) AND paid_at IS NOT NULL`,
      [paymentIntents],
    );
    return rows.map(toFacts);
  }

  /** Stripe purchases paid in [from, to) in these currencies, whatever their status since. */
  async purchasesPaidBetween(
    manager: EntityManager,
    span: { from: Date; to: Date; currencies: string[] },
  ): Promise<PurchaseFacts[]> {
    const rows: PurchaseFactsRow[] = await manager.query(
      `${PURCHASE_FACTS}
        WHERE provider = 'stripe' AND provider_payment_id IS NOT NULL
          AND paid_at >= $1 AND paid_at < $2 AND currency = ANY($3::varchar[])
        ORDER BY paid_at, id`,
      [span.from, span.to, span.currencies],
    );
    return rows.map(toFacts);
  }

  findByReport(manager: EntityManager, sha256: Buffer): Promise<Reconciliation | null> {
    return manager.findOneBy(Reconciliation, { reportSha256: sha256 });
  }

  /** The new reconciliation; null when the same report was stored meanwhile (a parallel upload). */
  async insert(
    manager: EntityManager,
    input: { sha256: Buffer; result: ReconciliationResult; createdBy: string },
  ): Promise<Reconciliation | null> {
    const { result } = input;
    const inserted = await manager
      .createQueryBuilder()
      .insert()
      .into(Reconciliation)
      .values({
        reportSha256: input.sha256,
        rowCount: result.rows,
        matched: result.matched,
        payouts: result.payouts,
        mismatched: result.mismatched,
        unknown: result.unknown,
        missing: result.missing,
        createdBy: input.createdBy,
      })
      .orIgnore()
      .returning('id')
      .execute();
    const id = (inserted.raw as { id: string }[])[0]?.id;
    return id ? manager.findOneByOrFail(Reconciliation, { id }) : null;
  }

  find(manager: EntityManager, id: string): Promise<Reconciliation | null> {
    return manager.findOneBy(Reconciliation, { id });
  }

  /** Newest first, after the cursor's (created_at, id); `cursor_t` at full precision for the next cursor. */
  async list(
    manager: EntityManager,
    query: { before: { t: string; id: string } | null; limit: number },
  ): Promise<Array<Reconciliation & { cursorT: string }>> {
    const rows: Array<{ id: string; cursor_t: string }> = await manager.query(
      `SELECT id, ${cursorTimestampSql('created_at')} AS cursor_t FROM finance_reconciliations
        WHERE $1::timestamptz IS NULL OR (created_at, id) < ($1::timestamptz, $2::uuid)
        ORDER BY created_at DESC, id DESC LIMIT $3`,
      [query.before?.t ?? null, query.before?.id ?? null, query.limit],
    );
    if (rows.length === 0) return [];
    const found = await manager.findBy(Reconciliation, { id: In(rows.map((r) => r.id)) });
    const byId = new Map(found.map((r) => [r.id, r]));
    return rows.map((r) => Object.assign(byId.get(r.id)!, { cursorT: r.cursor_t }));
  }
}
