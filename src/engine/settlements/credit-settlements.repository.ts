import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { queryPrepared, shiftParams, type SqlPart } from '../../database/statement-parts.js';
import type { SettlementRow } from '../credit-holds.repository.js';
import { splitOutColumns } from '../credits.repository.js';

/**
 * A statement of settlements that arrive together, built around ONE credits_settle_many() call. The
 * items are the rows of the CTE `input` (`ord`, 1-based, and the caller's `columns`, from a jsonb
 * parameter). `session` is a SELECT over `input i` of at most one row per item, locked (in an order
 * every such statement shares), with the columns SettleStatement's `session` has (`account_id`,
 * `user_id`, `org_id`, `session_id`, `charge`, `volume`, `settle`) and the item's `ord`, `created_by`
 * and `usage_record_id`; it becomes the CTE `settling`, and its `$1…$n` are its own `params`. Each of
 * `writes` (CTEs `write_1`…, no parameters) runs for the settlements that happened: it may read
 * `input`, `settling` and `settled` (credits_settle_many()'s rows, `out_*` columns and `ord`), and
 * answers at most one row per item, which `match` (a condition over `i`, the item's input row, and
 * `w`, the write's row) picks; its columns are named apart from the session's.
 */
export interface SettleManyStatement {
  /** The prepared statement's label: one text per label and number of writes. */
  name: string;
  /** Column definitions of `input` besides `ord` (`session_id varchar, …`). */
  columns: string;
  /** Each item's values for `columns` (the item's `ord` is its position). */
  items: Record<string, unknown>[];
  session: SqlPart;
  writes: { sql: string; match: string }[];
}

/** One item's answer: null when `session` found no row for it; `settlement` null when nothing was settled. */
export type SettledItem<R> = { settlement: SettlementRow | null; row: R } | null;

const ENGINE_PARAMS = 3;

/**
 * The statement's text: the engine's $1 the rate default, $2 the thresholds, $3 the input. The
 * settlements' arrays from `settling` in item order (one sort, so every array is in that order), the
 * member an org's session names, and the rule's volume steps, each only when one item has them.
 */
function settleManyText(s: SettleManyStatement): string {
  const writes = s.writes.map((w, k) => `write_${k + 1} AS (${w.sql})`);
  const answers = s.writes.map(
    (w, k) => `LEFT JOIN LATERAL (SELECT * FROM write_${k + 1} w WHERE ${w.match} OFFSET 0) write_${k + 1} ON true`,
  );
  return `WITH input AS MATERIALIZED (SELECT i.* FROM jsonb_to_recordset($3::jsonb) AS i(ord int, ${s.columns})),
               settling AS MATERIALIZED (${shiftParams(s.session.sql, ENGINE_PARAMS)}),
               settle_outcome AS MATERIALIZED (
                 SELECT x.ords[k.out_ord] AS ord, k.*
                   FROM (SELECT array_agg(t.ord) AS ords, array_agg(t.account_id::bigint) AS accounts,
                                array_agg(t.session_id) AS sessions, array_agg(t.charge::int) AS charges,
                                array_agg(t.created_by) AS writers, array_agg(t.usage_record_id) AS records,
                                CASE WHEN bool_or(t.org_id IS NOT NULL)
                                     THEN array_agg(CASE WHEN t.org_id IS NOT NULL THEN t.user_id END) END AS members,
                                CASE WHEN bool_or(t.volume IS NOT NULL) THEN array_agg(t.volume) END AS volumes
                           FROM (SELECT * FROM settling WHERE settling.settle ORDER BY settling.ord) t HAVING count(*) > 0) x
                  CROSS JOIN LATERAL credits_settle_many(x.accounts, x.sessions, x.charges, x.writers, x.records,
                                                         $1::int, $2::int[], x.members, x.volumes) k),
               settled AS MATERIALIZED (SELECT * FROM settle_outcome WHERE settle_outcome.out_status = 'ok')
               ${writes.map((w) => `, ${w}`).join('\n')}
             SELECT i.ord AS item_ord, settling.*, settle_outcome.* ${s.writes.map((_, k) => `, write_${k + 1}.*`).join('')}
               FROM input i
               LEFT JOIN LATERAL (SELECT * FROM settling WHERE settling.ord = i.ord OFFSET 0) settling ON true
               LEFT JOIN LATERAL (SELECT * FROM settle_outcome WHERE settle_outcome.ord = i.ord OFFSET 0) settle_outcome ON true
               ${answers.join('\n')}`;
}

/**
 * Settlements of many streaming sessions in ONE statement (CreditsService.settleSessions): the
 * engine's part of it, the rest the caller's (SettleManyStatement). Only the engine's services use it.
 */
@Injectable()
export class CreditSettlementsRepository {
  /** Statement texts by name (built once). */
  private readonly statements = new Map<string, string>();

  /** Each item's answer, in order (see SettledItem). */
  async settleAndWriteMany<R>(
    manager: EntityManager,
    controls: { rateDefault: number | null; thresholds: number[] },
    statement: SettleManyStatement,
  ): Promise<SettledItem<R>[]> {
    const key = `${statement.name}/${statement.writes.length}`;
    let text = this.statements.get(key);
    if (!text) {
      text = settleManyText(statement);
      this.statements.set(key, text);
    }
    const input = statement.items.map((item, k) => ({ ...item, ord: k + 1 }));
    const rows = await queryPrepared<Record<string, unknown>>(manager, statement.name, {
      sql: text,
      params: [controls.rateDefault, controls.thresholds, JSON.stringify(input), ...statement.session.params],
    });
    const answers: SettledItem<R>[] = new Array(statement.items.length).fill(null);
    for (const row of rows) {
      const { out, rest } = splitOutColumns<SettlementRow & { out_ord?: number }>(row);
      const ord = rest.item_ord as number;
      if (rest.session_id === null) continue;
      delete out.out_ord;
      answers[ord - 1] = { settlement: out.out_status === null ? null : out, row: rest as R };
    }
    return answers;
  }
}
