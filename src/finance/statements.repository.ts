import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

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
  correction_id: string | null;
}

@Injectable()
export class StatementsRepository {
  /** The account's credits as they stood at `at`: what the movements before it add up to. */
  async creditsAt(manager: EntityManager, accountId: string, at: Date): Promise<number> {
    const [row]: Array<{ credits: string }> = await manager.query(
      `SELECT (SELECT COALESCE(SUM(l.amount), 0) FROM credit_ledger l
                WHERE l.account_id = $1::bigint AND ${COUNTED} AND ${BOOKED} < $2)
            + (SELECT COALESCE(SUM(l.amount), 0) FROM credit_holds h
                 JOIN credit_ledger l ON l.account_id = h.account_id AND l.session_id = h.session_id
                                     AND l.kind IN ('hold', 'release')
                WHERE h.account_id = $1::bigint AND h.settled_at < $2) AS credits`,
      [accountId, at],
    );
    return Number(row.credits);
  }

  /** The movements in [from, to), in time order: ledger lines, and sessions settled then. */
  async movements(manager: EntityManager, accountId: string, from: Date, to: Date): Promise<Movement[]> {
    const rows: MovementRow[] = await manager.query(
      `SELECT ${BOOKED} AS at, l.kind, l.amount AS credits, a.source, l.allocation_id, a.purchase_id,
              l.category = 'charged_back' AS chargeback, l.value_minor::text AS value_minor, l.currency,
              l.id::text AS tie, l.correction_id
         FROM credit_ledger l
         LEFT JOIN credit_allocations a ON a.id = l.allocation_id
        WHERE l.account_id = $1::bigint AND ${COUNTED} AND ${BOOKED} >= $2 AND ${BOOKED} < $3
       UNION ALL
       -- a session's use, in each currency of the lots it held
       SELECT h.settled_at, 'session', SUM(l.amount)::int, NULL, NULL, NULL, false, SUM(l.value_minor)::text,
              l.currency, h.session_id, NULL
         FROM credit_holds h
         JOIN credit_ledger l ON l.account_id = h.account_id AND l.session_id = h.session_id
                             AND l.kind IN ('hold', 'release')
        WHERE h.account_id = $1::bigint AND h.settled_at >= $2 AND h.settled_at < $3
        GROUP BY h.session_id, h.settled_at, l.currency
        ORDER BY 1, 10`,
      [accountId, from, to],
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
      correctionId: r.correction_id,
    }));
  }

  /**
   * The credits of the account's usage records in [from, to), by service, by model and by service tier
   * (`default`: records priced at the base prices), and the count of each unit they priced.
   */
  async usage(manager: EntityManager, accountId: string, from: Date, to: Date): Promise<StatementUsage> {
    const rows: Array<{ service: string; model: string | null; tier: string | null; credits: string }> =
      await manager.query(
        `SELECT r.service, r.model_id AS model, r.service_tier AS tier, SUM(r.credits) AS credits
           FROM usage_records r
          WHERE r.account_id = $1::bigint AND r.timestamp >= $2 AND r.timestamp < $3
          GROUP BY r.service, r.model_id, r.service_tier ORDER BY r.service, r.model_id, r.service_tier`,
        [accountId, from, to],
      );
    const units: Array<{ unit: string; count: string }> = await manager.query(
      `SELECT u.key AS unit, SUM(u.value::bigint) AS count
         FROM usage_records r, jsonb_each_text(r.units) u
        WHERE r.account_id = $1::bigint AND r.timestamp >= $2 AND r.timestamp < $3 AND r.units IS NOT NULL
        GROUP BY u.key ORDER BY u.key`,
      [accountId, from, to],
    );
    const usage: StatementUsage = { byService: {}, byModel: {}, byServiceTier: {}, unitsByName: {} };
    const add = (into: Record<string, number>, key: string, n: number) => (into[key] = (into[key] ?? 0) + n);
    for (const r of rows) {
      add(usage.byService, r.service, Number(r.credits));
      add(usage.byModel, r.model ?? 'none', Number(r.credits));
      add(usage.byServiceTier, r.tier ?? 'default', Number(r.credits));
    }
    for (const u of units) usage.unitsByName[u.unit] = Number(u.count);
    return usage;
  }
}

/** A statement's breakdown of its month's usage records. */
export interface StatementUsage {
  byService: Record<string, number>;
  byModel: Record<string, number>;
  byServiceTier: Record<string, number>;
  unitsByName: Record<string, number>;
}
