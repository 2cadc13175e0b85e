import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { queryPrepared, shiftParams, type SqlPart } from '../../database/statement-parts.js';

/**
 * A statement of usage corrections, built around ONE credits_correct() call (docs/money.md
 * "Corrections"). `records` is a SELECT of one row per record to correct, in the caller's order, its
 * rows locked and read before it answers; it becomes the CTE `correcting`, with the columns: `ord`
 * (1-based), `moves` (its credits move), and for those that move the record's `account_id`,
 * `record_id`, `correction` (the new correction's id, which the ledger lines name), `session_id`,
 * `delta` (signed), `open_review` (its open shortfall before), `member_id`, `api_key_id`, `at` (when
 * its caps counted it), and for a record priced at volume steps `model_id`, `occurred_at`, `tokens`,
 * `charged` and `returned` (what goes back of it); its `$1…$n` are its own `params`. `writes` (the
 * CTE `written`, its own `params`) runs after the credits moved: it may read `correcting` and
 * `corrected` (`ord`, `shortfall`: what the engine left open), and answers one row per record with
 * its `ord`.
 */
export interface CorrectStatement {
  /** The prepared statement's label. */
  name: string;
  records: SqlPart;
  writes: SqlPart;
}

/** One record's answer: the caller's row, and the credits it moved on the balance (returned + regranted − collected − debt). */
export interface CorrectedItem<R> {
  row: R;
  moved: number;
}

const ENGINE_PARAMS = 4;

/**
 * The statement's text: the engine's $1 who corrects, $2 a correction allocation's days, $3 the rate
 * default, $4 the thresholds. The corrections that move go to credits_correct() in record order (its
 * out_ord is their position among them); what went back of records priced at volume steps leaves
 * their periods' totals (credit_volume_correct()), after the take, under its accounts' locks, and only
 * when one of them has some.
 */
function correctText(s: CorrectStatement): string {
  const arrays = (columns: string[]) => columns.map((c) => `array_agg(t.${c} ORDER BY t.ord) AS ${c}`).join(', ');
  return `WITH correcting AS MATERIALIZED (${shiftParams(s.records.sql, ENGINE_PARAMS)}),
               corrected AS MATERIALIZED (
                 SELECT x.ord[k.out_ord] AS ord, k.out_shortfall AS shortfall,
                        k.out_returned + k.out_regranted - k.out_collected - k.out_debt AS moved
                   FROM (SELECT ${arrays(['ord', 'account_id', 'record_id', 'correction', 'session_id', 'delta', 'open_review', 'member_id', 'api_key_id', 'at'])}
                           FROM correcting t WHERE t.moves HAVING count(*) > 0) x
                  CROSS JOIN LATERAL credits_correct(x.account_id, x.record_id, x.correction, x.session_id, x.delta, x.open_review,
                                                     x.member_id, x.api_key_id, x.at, $1::varchar, $2::int, $3::int, $4::int[]) k),
               volume AS MATERIALIZED (
                 SELECT credit_volume_correct(x.account_id, x.model_id, x.occurred_at, x.tokens, x.charged, x.returned,
                                              x.record_id, x.correction) AS entries
                   FROM (SELECT ${arrays(['account_id', 'model_id', 'occurred_at', 'tokens', 'charged', 'returned', 'record_id', 'correction'])}
                           FROM correcting t WHERE t.moves HAVING bool_or(t.model_id IS NOT NULL AND t.returned > 0)) x
                  CROSS JOIN (SELECT count(*) FROM corrected) taken),
               written AS MATERIALIZED (${shiftParams(s.writes.sql, ENGINE_PARAMS + s.records.params.length)})
             SELECT w.*, COALESCE(c.moved, 0)::text AS credits_moved
               FROM written w
               LEFT JOIN corrected c ON c.ord = w.ord
              CROSS JOIN (SELECT count(*) FROM volume) v
              ORDER BY w.ord`;
}

/**
 * Usage corrections in ONE statement (CreditsService.correct): the engine's part of it, the rest the
 * caller's (CorrectStatement). Only the engine's services use it.
 */
@Injectable()
export class CreditCorrectionsRepository {
  /** Statement texts by name (built once). */
  private readonly statements = new Map<string, string>();

  /** Each record's answer, in order (see CorrectedItem). */
  async correct<R>(
    manager: EntityManager,
    engine: { createdBy: string; expiryDays: number; rateDefault: number | null; thresholds: number[] },
    statement: CorrectStatement,
  ): Promise<CorrectedItem<R>[]> {
    let text = this.statements.get(statement.name);
    if (!text) this.statements.set(statement.name, (text = correctText(statement)));
    const rows = await queryPrepared<Record<string, unknown>>(manager, statement.name, {
      sql: text,
      params: [
        engine.createdBy,
        engine.expiryDays,
        engine.rateDefault,
        engine.thresholds,
        ...statement.records.params,
        ...statement.writes.params,
      ],
    });
    return rows.map(({ credits_moved, ...row }) => ({ row: row as R, moved: Number(credits_moved) }));
  }
}
