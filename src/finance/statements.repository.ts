import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { AccountRef } from '../accounts/account-ref.js';
import type { Movement } from './statement-lines.js';

/**
 * The movements a statement counts, read from the ledger (read only). A statement counts what
 * changes the account's credits: every ledger line but holds and their releases (a hold has not
 * consumed its credits: a session's use counts once it settles, as its holds less what came back),
 * freezes (disputed credits are still the account's until the dispute is lost) and repays (debt
 * repaid from a new lot leaves the credits owed and the lot's alike).
 */
const COUNTED = `l.kind NOT IN ('hold', 'release', 'freeze', 'unfreeze', 'repay')`;

/** When a line counts: when finance books it (an expiry at its allocation's expiry), else when written. */
const BOOKED = `COALESCE(l.booked_at, l.created_at)`;

/** The account's id, or null when it does not exist. */
const ACCOUNT = `(SELECT account_id FROM accounts WHERE kind = $1 AND (user_id = $2 OR org_id = $2))`;

interface MovementRow {
  at: Date;
  kind: string;
  credits: number;
  source: string | null;
  allocation_id: string | null;
  purchase_id: string | null;
  chargeback: boolean | null;
  value_minor: string | null;
  currency: string | null;
}

@Injectable()
export class StatementsRepository {
  async accountExists(manager: EntityManager, account: AccountRef): Promise<boolean> {
    const rows: unknown[] = await manager.query(`SELECT 1 FROM accounts WHERE account_id = ${ACCOUNT}`, [
      account.kind,
      account.id,
    ]);
    return rows.length > 0;
  }

  /** The account's credits as they stood at `at`: what the movements before it add up to. */
  async creditsAt(manager: EntityManager, account: AccountRef, at: Date): Promise<number> {
    const [row]: Array<{ credits: string }> = await manager.query(
      `SELECT (SELECT COALESCE(SUM(l.amount), 0) FROM credit_ledger l
                WHERE l.account_id = ${ACCOUNT} AND ${COUNTED} AND ${BOOKED} < $3)
            + (SELECT COALESCE(SUM(l.amount), 0) FROM credit_holds h
                 JOIN credit_ledger l ON l.account_id = h.account_id AND l.session_id = h.session_id
                                     AND l.kind IN ('hold', 'release')
                WHERE h.account_id = ${ACCOUNT} AND h.settled_at < $3) AS credits`,
      [account.kind, account.id, at],
    );
    return Number(row.credits);
  }

  /** The movements in [from, to), in time order: ledger lines, and sessions settled then. */
  async movements(manager: EntityManager, account: AccountRef, from: Date, to: Date): Promise<Movement[]> {
    const rows: MovementRow[] = await manager.query(
      `SELECT ${BOOKED} AS at, l.kind, l.amount AS credits, a.source, l.allocation_id, a.purchase_id,
              l.category = 'charged_back' AS chargeback, l.value_minor::text AS value_minor, l.currency,
              l.id::text AS tie
         FROM credit_ledger l
         LEFT JOIN credit_allocations a ON a.id = l.allocation_id
        WHERE l.account_id = ${ACCOUNT} AND ${COUNTED} AND ${BOOKED} >= $3 AND ${BOOKED} < $4
       UNION ALL
       -- a session's use, in each currency of the lots it held
       SELECT h.settled_at, 'session', SUM(l.amount)::int, NULL, NULL, NULL, false, SUM(l.value_minor)::text,
              l.currency, h.session_id
         FROM credit_holds h
         JOIN credit_ledger l ON l.account_id = h.account_id AND l.session_id = h.session_id
                             AND l.kind IN ('hold', 'release')
        WHERE h.account_id = ${ACCOUNT} AND h.settled_at >= $3 AND h.settled_at < $4
        GROUP BY h.session_id, h.settled_at, l.currency
        ORDER BY 1, 10`,
      [account.kind, account.id, from, to],
    );
    return rows.map((r) => ({
      at: r.at,
      kind: r.kind,
      credits: Number(r.credits),
      source: r.source,
      allocationId: r.allocation_id,
      purchaseId: r.purchase_id,
      chargeback: r.chargeback === true,
      valueMinor: r.value_minor === null ? null : BigInt(r.value_minor),
      currency: r.currency,
    }));
  }

  /** The credits of the account's usage records in [from, to), by service and by model. */
  async usage(
    manager: EntityManager,
    account: AccountRef,
    from: Date,
    to: Date,
  ): Promise<{ byService: Record<string, number>; byModel: Record<string, number> }> {
    const owner = account.kind === 'org' ? 'r.org_id = $1' : 'r.user_id = $1 AND r.org_id IS NULL';
    const rows: Array<{ service: string; model: string | null; credits: string }> = await manager.query(
      `SELECT r.service, r.model_id AS model, SUM(r.credits) AS credits FROM usage_records r
        WHERE ${owner} AND r.timestamp >= $2 AND r.timestamp < $3
        GROUP BY r.service, r.model_id ORDER BY r.service, r.model_id`,
      [account.id, from, to],
    );
    const byService: Record<string, number> = {};
    const byModel: Record<string, number> = {};
    for (const r of rows) {
      byService[r.service] = (byService[r.service] ?? 0) + Number(r.credits);
      const model = r.model ?? 'none';
      byModel[model] = (byModel[model] ?? 0) + Number(r.credits);
    }
    return { byService, byModel };
  }
}
