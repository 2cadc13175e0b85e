import { Injectable } from '@nestjs/common';
import { type EntityManager, QueryFailedError } from 'typeorm';

import { type BudgetScopes, namesScopes, scopesParam } from '../common/validation/budget-scopes.js';
import { type NamedPart, queryParts, queryPrepared, shiftParams, type SqlPart } from '../database/statement-parts.js';
import type { LedgerRefs, SpendRefs } from './credit-views.js';
import { type InsertAfterTake, splitOutColumns, type TakeRow, type TakeSpec } from './credits.repository.js';

/** What a caller asks to hold (CreditsService.holdAndInsert): on which account, how much, for which session and scopes. */
export interface HoldRequest {
  /** The id of the account that pays (the org's, else the user's), resolved at the edge (null: none). */
  accountId: string | null;
  /** The member who spends from an organisation's account (its limit counts the hold); null: a user's own. */
  member: string | null;
  amount: number;
  refs: SpendRefs & { sessionId: string };
  scopes?: BudgetScopes | null;
}

/** A hold: a strict take of kind `hold` for a session (TakeSpec with refs.sessionId set). */
export type HoldSpec = Omit<TakeSpec, 'kind' | 'mode'> & { refs: LedgerRefs & { sessionId: string } };

/** An INSERT in the hold's statement (see holdAndInsert). */
export interface InsertAfterHold extends InsertAfterTake {
  /** A condition over the insert's own `params`: when true, nothing is held or inserted. */
  unless: string;
}

/**
 * The INSERT of a statement of holds that arrive together (CreditHoldsRepository.holdAndInsertMany), one
 * row per hold that happened. Each item's own fields come in the statement's jsonb input beside its
 * hold's, read as the columns of `i` (its input row, with `ord` its 1-based position and `session_id`
 * the hold's session) and `held` (its hold's row: credits_hold()'s `out_*` columns and `account_id`,
 * the account it held on).
 */
export interface InsertAfterHolds {
  /** The prepared statement's label; its name adds a hash of the text. */
  name: string;
  /** The item's own fields in the input: column definitions (`model_id varchar, …`) of `i`. */
  columns: string;
  /**
   * A condition over `i` and `params`: when true, nothing is held or inserted for that item. A
   * condition of the whole statement (no `i`) is read once, at the statement's snapshot, for all.
   */
  unless: string;
  /** The parameters of `unless`, numbered from $1 (the statement places them after its own). */
  params: unknown[];
  /** `INSERT INTO table (columns) SELECT <values over i and held>` (its FROM is the statement's). */
  insert: string;
  /** Columns to return from each inserted row. */
  returning: string;
  /** Whether `inserted`, an inserted row, is item `i`'s: a condition over both. */
  match: string;
}

/** What credits_give_back() wrote, per ledger kind (release +, expire and void −). */
export interface GivenBack {
  out_released: string;
  out_expired: string;
  out_voided: string;
}

/** credits_settle()'s row: the hold settled, the overrun taken, the shortfall. */
export interface SettlementRow extends GivenBack {
  out_status: 'ok' | 'already_settled';
  out_held: string;
  out_kept: string;
  out_refund: string;
  out_collected: string;
  out_debt: string;
  out_shortfall: string;
  /** What the settlement charged: the session's charge, or on a rule with volume steps the stepped one. */
  out_charge: number;
  /** The step that priced its last token (null: a rule without steps). */
  out_volume_step: number | null;
}

/**
 * A settlement statement built around credits_settle(): `session` is a SELECT of at most one row,
 * locked, with at least the columns `account_id` (the account that pays: the engine's id), `user_id`,
 * `org_id` (the organisation that pays, or null), `session_id`, `charge` (≤ the integer range when
 * `settle`), `volume` (the rule's volume steps as credits_take_events() takes them, the engine then
 * deciding the charge; null: none) and `settle` (boolean: settle it in this statement); it becomes the CTE `settling`. Each
 * of `writes` (CTEs `write_1`…) runs only when the settlement happened: it may read `settling` and
 * `settled` (credits_settle()'s row, `out_*` columns) and answers at most one row (an INSERT/UPDATE
 * … RETURNING, or a SELECT), whose columns are named apart from the session's.
 */
export interface SettleStatement {
  /** A name for the prepared statement (one statement text per name). */
  name: string;
  session: SqlPart;
  writes: SqlPart[];
}

const HOLD_PARAMS = 9;
/**
 * credits_hold() for one hold (a batch of one) with its amount given as `amount`: $1 the account id
 * (null: none, the hold's no_account), $3 session, $4 created by, $5 key, $6, $7 defaults, $8 the
 * org's member, $9 the budget scopes (jsonb, null: none).
 */
const creditsHold = (amount: string) =>
  `credits_hold(ARRAY[$1::bigint], ARRAY[${amount}], ARRAY[$3::varchar], ARRAY[$4::varchar], $5::uuid, $6::int, $7::int[],
                ARRAY[$8::varchar], ARRAY[$9::jsonb])`;
const HOLD_COLUMNS = `held.out_status, held.out_available, held.out_headroom, held.out_collected, held.out_debt,
  held.out_balance_after, held.out_parts, held.out_retry_after`;

function holdParams(accountId: string | null, hold: HoldSpec): unknown[] {
  return [
    accountId,
    hold.amount,
    hold.refs.sessionId,
    hold.refs.createdBy,
    hold.apiKeyId ?? null,
    hold.rateDefault,
    hold.thresholds,
    hold.member,
    scopesParam(hold.scopes),
  ];
}

/** One hold of a statement of holds that arrive together: its account, and its own fields for the caller's INSERT. */
export interface HoldTogether {
  accountId: string | null;
  hold: Omit<HoldSpec, 'rateDefault' | 'thresholds'>;
  fields: Record<string, unknown>;
}

/**
 * The key a statement of holds goes through: one for all of them (null: none), or `'each'`, each
 * hold its own (`hold.apiKeyId`).
 */
export type HoldsKey = { apiKeyId: string | null } | 'each';

/** A hold's fields in the input of a statement of holds (the columns `holdAndInsertManyText` reads). */
const HOLD_INPUT_COLUMNS = `ord int, account_id bigint, amount int, session_id varchar, created_by varchar, member varchar,
  scopes jsonb`;

/**
 * The holds' arrays for credits_hold(), from the rows `a` of one call, each in the rows' order, or in
 * `order` (` ORDER BY a.ord`).
 */
const holdArrays = (order = '') =>
  `array_agg(a.ord${order}) AS ords, array_agg(a.account_id${order}) AS accounts, array_agg(a.amount${order}) AS amounts,
                                array_agg(a.session_id${order}) AS sessions, array_agg(a.created_by${order}) AS writers,
                                CASE WHEN bool_or(a.member IS NOT NULL) THEN array_agg(a.member${order}) END AS members,
                                CASE WHEN bool_or(a.scopes IS NOT NULL) THEN array_agg(a.scopes${order}) END AS scopes`;

/**
 * The statement of holds that arrive together: the items whose `unless` holds are skipped, the rest
 * held by credits_hold(), then the caller's INSERT for the holds that happened; one row per item,
 * `out_ord` its position. Through one key: ONE credits_hold() call in their order ($1 the key, $2
 * and $3 the defaults, $4 the input, then `unless`'s own). Each through its own key (`'each'`): one
 * call for the holds of each account and key, the calls in account id order, so the statement locks
 * its accounts in the order every take does ($1 and $2 the defaults, $3 the input).
 */
function holdAndInsertManyText(then: InsertAfterHolds, key: HoldsKey): string {
  const each = key === 'each';
  const [rate, thresholds, input] = each ? ['$1', '$2', '$3'] : ['$2', '$3', '$4'];
  // The holds' arrays from `asked` in input order, each hold's item by its position (`ords`); the
  // answer rows in any order, each naming its item (`out_ord`). Each item's rows are found by nested
  // loops over the CTEs (`OFFSET 0` keeps each lookup a subquery): a hash join's start-up cost a lone
  // initialize more than the lookups.
  const calls = each
    ? `SELECT a.api_key_id, ${holdArrays(' ORDER BY a.ord')}
                           FROM asked a GROUP BY a.account_id, a.api_key_id ORDER BY a.account_id, a.api_key_id`
    : `SELECT ${holdArrays()}
                           FROM (SELECT * FROM asked ORDER BY asked.ord) a HAVING count(*) > 0`;
  const columns = `${HOLD_INPUT_COLUMNS}${each ? ', api_key_id uuid' : ''}, ${then.columns}`;
  return `WITH input AS MATERIALIZED (SELECT i.* FROM jsonb_to_recordset(${input}::jsonb) AS i(${columns})),
               asked AS MATERIALIZED (SELECT i.* FROM input i WHERE NOT (${shiftParams(then.unless, each ? 3 : 4)})),
               held AS MATERIALIZED (
                 SELECT x.ords[h.out_ord] AS ord, x.accounts[h.out_ord] AS account_id, h.out_status, h.out_available,
                        h.out_headroom, h.out_collected, h.out_debt, h.out_balance_after, h.out_parts, h.out_retry_after
                   FROM (${calls}) x
                  CROSS JOIN LATERAL credits_hold(x.accounts, x.amounts, x.sessions, x.writers, ${each ? 'x.api_key_id' : '$1::uuid'}, ${rate}::int, ${thresholds}::int[],
                                                  x.members, x.scopes) h),
               inserted AS (${then.insert}
                              FROM held CROSS JOIN LATERAL (SELECT * FROM input i WHERE i.ord = held.ord OFFSET 0) i
                             WHERE held.out_status = 'ok'
                            RETURNING ${then.returning})
             SELECT i.ord AS out_ord, ${HOLD_COLUMNS}, inserted.*
               FROM input i LEFT JOIN LATERAL (SELECT * FROM held WHERE held.ord = i.ord OFFSET 0) held ON true
               LEFT JOIN LATERAL (SELECT * FROM inserted WHERE ${then.match} OFFSET 0) inserted ON true`;
}

/** A hold statement's outcome for one hold: the take's row and the caller's inserted row, or 'taken'. */
export type HeldRow<R> = (TakeRow & { row: R | null }) | 'taken';

/**
 * One answer row of a hold statement as HeldRow: 'taken' when nothing was held (its `unless` held),
 * else the take's columns with the caller's inserted row (null: the hold was refused).
 */
function heldRow<R>(row: Record<string, unknown>): HeldRow<R> {
  const { out, rest } = splitOutColumns<TakeRow>(row);
  if (out.out_status === null) return 'taken';
  return { ...out, row: out.out_status === 'ok' ? (rest as R) : null };
}

function isUniqueViolation(error: unknown): boolean {
  return (
    error instanceof QueryFailedError &&
    (error as QueryFailedError & { driverError?: { code?: string } }).driverError?.code === '23505'
  );
}

/**
 * credit_holds (a streaming session's outstanding hold, the budgeted key it counted against): the
 * statements built around credits_hold() and credits_settle() (migration 1732000014000), which give
 * back and settle through credits_give_back() and credits_settle_hold(). Only CreditsService uses it.
 */
@Injectable()
export class CreditHoldsRepository {
  /** Statement texts by name (built once). */
  private readonly statements = new Map<string, string>();

  /**
   * A hold and an INSERT in ONE statement, as a named (prepared) statement: nothing is held or
   * inserted when `then.unless` holds; the insert runs only when the hold happened, and reads the CTE
   * `held` (credits_hold()'s row and `account_id`, the account it held on). 'taken' when
   * `unless` held, or when the hold row or the insert met a unique key a concurrent statement took
   * (the whole statement failed: nothing written, a surrounding transaction must end). `accountId` is
   * the payer's (null: no account), resolved by the caller.
   */
  async holdAndInsert<R>(
    manager: EntityManager,
    accountId: string | null,
    hold: HoldSpec,
    then: InsertAfterHold,
  ): Promise<HeldRow<R>> {
    let text = this.statements.get(then.name);
    if (!text) {
      // The hold's amount comes from `asked`, so credits_hold() runs only when `asked` has its row.
      text = `WITH asked AS MATERIALIZED (SELECT $2::int AS amount WHERE NOT (${shiftParams(then.unless, HOLD_PARAMS)})),
               held AS MATERIALIZED (SELECT h.*, $1::bigint AS account_id FROM asked, LATERAL ${creditsHold('asked.amount')} h),
               inserted AS (${shiftParams(then.insert, HOLD_PARAMS)} FROM held WHERE held.out_status = 'ok'
                            RETURNING ${then.returning})
             SELECT ${HOLD_COLUMNS}, inserted.* FROM (SELECT 1) one LEFT JOIN held ON true LEFT JOIN inserted ON true`;
      this.statements.set(then.name, text);
    }
    let rows: Record<string, unknown>[];
    try {
      rows = await queryPrepared(manager, then.name, {
        sql: text,
        params: [...holdParams(accountId, hold), ...then.params],
      });
    } catch (error) {
      if (isUniqueViolation(error)) return 'taken';
      throw error;
    }
    return heldRow<R>(rows[0]);
  }

  /**
   * Holds and INSERTs of many items in ONE statement (see holdAndInsertManyText), as a named (prepared)
   * statement of one text per `then.name` and key: each item answers as holdAndInsert would alone
   * ('taken' when its `unless` held, or when one item alone met a unique key a concurrent statement
   * took), in order. A statement of several that failed as a whole (a unique key taken, by a
   * concurrent statement or by two items of its own) throws: nothing was written, and the caller sends
   * its items again one at a time. Every hold goes through `take.key`: one key, or each its own.
   */
  async holdAndInsertMany<R>(
    manager: EntityManager,
    take: Pick<TakeSpec, 'rateDefault' | 'thresholds'> & { key: HoldsKey },
    items: HoldTogether[],
    then: InsertAfterHolds,
  ): Promise<HeldRow<R>[]> {
    const each = take.key === 'each';
    const textKey = `${each ? 'each:' : ''}${then.name}`;
    let text = this.statements.get(textKey);
    if (!text) {
      text = holdAndInsertManyText(then, take.key);
      this.statements.set(textKey, text);
    }
    const input = items.map((item, k) => ({
      ...item.fields,
      ord: k + 1,
      account_id: item.accountId,
      amount: item.hold.amount,
      session_id: item.hold.refs.sessionId,
      created_by: item.hold.refs.createdBy,
      member: item.hold.member,
      scopes: namesScopes(item.hold.scopes) ? item.hold.scopes : null,
      ...(each ? { api_key_id: item.hold.apiKeyId ?? null } : {}),
    }));
    const own = [take.rateDefault, take.thresholds, JSON.stringify(input)];
    let rows: Record<string, unknown>[];
    try {
      rows = await queryPrepared<Record<string, unknown>>(manager, then.name, {
        sql: text,
        params: [...(take.key === 'each' ? own : [take.key.apiKeyId, ...own]), ...then.params],
      });
    } catch (error) {
      // One item alone answers as holdAndInsert does: its key taken by a concurrent statement.
      if (items.length === 1 && isUniqueViolation(error)) return ['taken'];
      throw error;
    }
    const answers: HeldRow<R>[] = new Array(items.length);
    for (const row of rows) answers[(row.out_ord as number) - 1] = heldRow<R>(row);
    return answers;
  }

  /**
   * A settlement statement (SettleStatement) as ONE named statement. Null when `session` found no
   * row; `settlement` null when it was not to be settled.
   */
  async settleAndWrite<R>(
    manager: EntityManager,
    settle: { createdBy: string; usageRecordId: string; rateDefault: number | null; thresholds: number[] },
    statement: SettleStatement,
  ): Promise<{ settlement: SettlementRow | null; row: R } | null> {
    const writes = statement.writes.map((w, i): NamedPart => ({ name: `write_${i + 1}`, ...w }));
    const rows = await queryParts<Record<string, unknown>>(
      manager,
      statement.name,
      [
        { name: 'settling', ...statement.session, materialized: true },
        // The charge reaches credits_settle() through `to_settle`, so it runs only for a row to settle.
        {
          name: 'settle_outcome',
          sql: `SELECT k.*
                  FROM (SELECT settling.account_id, settling.user_id, settling.org_id, settling.session_id,
                               settling.charge::int AS charge, settling.volume
                          FROM settling WHERE settling.settle) to_settle,
                       LATERAL credits_settle(to_settle.account_id::bigint, to_settle.session_id, to_settle.charge, $1,
                                              $2::uuid, $3::int, $4::int[],
                                              CASE WHEN to_settle.org_id IS NOT NULL THEN to_settle.user_id END,
                                              to_settle.volume) k`,
          params: [settle.createdBy, settle.usageRecordId, settle.rateDefault, settle.thresholds],
          materialized: true,
        },
        {
          name: 'settled',
          sql: `SELECT * FROM settle_outcome WHERE settle_outcome.out_status = 'ok'`,
          params: [],
          materialized: true,
        },
        ...writes,
      ],
      {
        sql: `SELECT settling.*, settle_outcome.* ${writes.map((w) => `, ${w.name}.*`).join('')}
                FROM settling LEFT JOIN settle_outcome ON true ${writes.map((w) => `LEFT JOIN ${w.name} ON true`).join(' ')}`,
        params: [],
      },
    );
    if (rows.length === 0) return null;
    const { out, rest } = splitOutColumns<SettlementRow>(rows[0]);
    return { settlement: out.out_status === null ? null : out, row: rest as R };
  }
}
