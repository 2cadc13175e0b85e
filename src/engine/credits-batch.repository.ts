import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { type NamedPart, queryPrepared, type SqlPart, withParts } from '../database/statement-parts.js';
import type { TakeSpec } from './credits.repository.js';

/**
 * A batch take statement (CreditsService.debitAndInsertMany) built around the one take,
 * credits_take_events(): the caller's parts and the take (a strict debit per event) as named CTEs of
 * ONE statement, in the order they run; a record alone is a batch of one. The caller's parts read the
 * CTEs before them by name.
 */
export interface BatchTakeStatement {
  /** The amounts in the order the events apply (checked before the statement is sent). */
  amounts: number[];
  /** The id of the account each event charges, in the same order (null: none), resolved at the edge. */
  accountIds: (string | null)[];
  /**
   * Who wrote each event, in the same order (the ledger's `created_by`): records of several writers
   * (users' own tokens, an organisation's members) share one statement and one take.
   */
  createdBy: string[];
  /** CTE `batch_input`: one row, the batch's parameters as the caller's parts read them. */
  input: SqlPart;
  /**
   * CTE `events`, before any account lock: one row per event, `out_ord` its 1-based position,
   * `out_status` new | duplicate | unknown_user, `out_usage_record_id` the record a new event creates
   * (a duplicate's: the first one's).
   */
  events: string;
  /**
   * CTE `charges`, before any account lock: one row per new event, `ord` (its `out_ord`), `id` (the
   * record its ledger lines will point at), `amount`, `member` (an org's: the member who spent,
   * else null), `volume` (its rule's volume steps, jsonb; null: none, `amount` is its price) and
   * `scopes` (jsonb, the budget scopes it names; null: none); the account it charges is `accountIds[ord - 1]`.
   * Not placed when the take's arrays are `given`.
   */
  charges: string;
  /**
   * CTE `records`, after the take: an INSERT … RETURNING `id` of the records of the events the take
   * let through (it reads `takes`: `out_usage_record_id`, `out_status` 'ok', `out_account_id` the
   * account it charged). A record is written once: a refused event never writes one.
   */
  records: string;
  /**
   * CTE `stored`, optional, after `records`: a write of the caller's that reads `records` (the answers
   * stored for the records' Idempotency-Keys), run whether or not anything reads it.
   */
  stored?: string;
  /**
   * CTE `released`, after the take (one row): reads `refused` (`usage_record_id`, one row per new
   * event the take refused) and undoes what `events` claimed for them. Undefined when `events`
   * claims nothing: no CTE to start.
   */
  release: string | undefined;
  /**
   * Optional columns of each created event's record in its outcome row: a select list over `r`, a
   * row of `records` (whose RETURNING must give them), NULL for the other events.
   */
  answer?: string;
  /**
   * The take's own arrays, in event order, for a batch whose `events` part claims nothing (no event
   * carries an id or a key), so every event it finds is new or of an unknown user: the take reads
   * these as they are, and `charges` is not placed. Otherwise the take's arrays are aggregated from
   * `charges`, one ordered aggregate an array, each sorting the events again (about 190,000
   * PostgreSQL instructions a record alone, docs/benchmarks.md "The record alone, counted"). An
   * unknown user's event goes to the take too, which refuses it: an account and an organisation's
   * membership each need their user (foreign keys), and its outcome is `events`' (`unknown_user`).
   */
  given?: GivenCharges;
  /** The prepared statement's label (its name: the label and a hash of the text). */
  label: string;
}

/** The take's arrays given with the statement (BatchTakeStatement `given`), each in event order. */
export interface GivenCharges {
  /** The record each event's ledger lines point at. */
  records: string[];
  /** An organisation's event: the member who spent; else null. */
  members: (string | null)[];
  /** Each event's rule's volume steps (null: none); null when no event has any. */
  volumes: (object | null)[] | null;
  /** Each event's budget scopes (null: none); null when no event names any. */
  scopes: (object | null)[] | null;
}

/** One row of a batch take statement, per event. */
export interface BatchTakeRow {
  out_ord: number;
  out_status:
    | 'ok'
    | 'duplicate'
    | 'unknown_user'
    | 'no_account'
    | 'not_a_member'
    | 'insufficient'
    | 'key_limit'
    | 'member_limit'
    | 'rate_limited'
    | 'budget_exceeded'
    // The caller's `events` on a record's Idempotency-Key: its request is running, answered or another's.
    | 'in_flight'
    | 'replayed'
    | 'key_reused';
  out_usage_record_id: string | null;
  out_collected: string;
  out_debt: string;
  out_balance: string;
  out_retry_after: number | null;
  /** A refusal by a budget: which, and its state (credits_take_events()); else the hold's parts or []. */
  out_parts: unknown;
}

/**
 * The take: credits_take_events() over `charges` in event order, through the key $1 (null: none),
 * each with the account id of its event ($4, one per event in event order; null: no account, the
 * take's no_account), which each row carries on as `out_account_id` for the records the take lets
 * through, and its writer ($5, likewise).
 */
const TAKES = `SELECT k.*, i.accounts[k.out_ord] AS out_account_id
  FROM (SELECT array_agg(($4::bigint[])[c.ord::int] ORDER BY c.ord) AS accounts,
               array_agg(c.amount ORDER BY c.ord) AS amounts, array_agg(c.id ORDER BY c.ord) AS records,
               array_agg(c.member ORDER BY c.ord) AS members,
               array_agg(($5::varchar[])[c.ord::int] ORDER BY c.ord) AS writers,
               CASE WHEN bool_or(c.volume IS NOT NULL) THEN array_agg(c.volume ORDER BY c.ord) END AS volumes,
               CASE WHEN bool_or(c.scopes IS NOT NULL) THEN array_agg(c.scopes ORDER BY c.ord) END AS scopes
          FROM charges c) i,
       LATERAL credits_take_events(NULL, $1::uuid, $2::int, $3::int[], i.accounts, i.amounts, i.records, i.members,
                                   p_volumes => i.volumes, p_scopes => i.scopes, p_created_bys => i.writers) k`;
/**
 * The take over the arrays given with the statement (BatchTakeStatement `given`): $6 the amounts, $7
 * the records, $8 the members, $9 the volume steps and $10 the scopes, in event order, as `TAKES`
 * aggregates them from `charges`.
 */
const TAKES_GIVEN = `SELECT k.*, ($4::bigint[])[k.out_ord] AS out_account_id
  FROM credits_take_events(NULL, $1::uuid, $2::int, $3::int[], $4::bigint[], $6::int[], $7::uuid[], $8::varchar[],
                           p_volumes => $9::jsonb[], p_scopes => $10::jsonb[], p_created_bys => $5::varchar[]) k`;
const REFUSED = `SELECT t.out_usage_record_id AS usage_record_id FROM takes t WHERE t.out_status <> 'ok'`;
/**
 * Every event's outcome: the take's for a new one, the caller's (duplicate, unknown_user) else; with
 * `answer`, those columns of a created event's record.
 */
function outcomes(answer: string | undefined, released: boolean): string {
  return `SELECT e.out_ord, COALESCE(t.out_status, e.out_status) AS out_status,
       CASE WHEN t.out_status = 'ok' OR e.out_status = 'duplicate' THEN e.out_usage_record_id END AS out_usage_record_id,
       COALESCE(t.out_collected, 0) AS out_collected, COALESCE(t.out_debt, 0) AS out_debt,
       COALESCE(t.out_balance, 0) AS out_balance, t.out_retry_after, t.out_parts${answer ? `, ${answer}` : ''}
  FROM events e
  LEFT JOIN takes t ON e.out_status = 'new' AND t.out_usage_record_id = e.out_usage_record_id${
    answer
      ? `
  LEFT JOIN records r ON t.out_status = 'ok' AND r.id = t.out_usage_record_id`
      : ''
  }${
    released
      ? `
 CROSS JOIN released`
      : ''
  }
 ORDER BY e.out_ord`;
}

/** The caller's parts of a batch take statement, in the order they are placed, and its input's count. */
const shapeOf = (s: BatchTakeStatement): (string | number | boolean | undefined)[] => [
  s.input.sql,
  s.input.params.length,
  s.events,
  s.charges,
  s.records,
  s.release,
  s.answer,
  s.stored,
  s.given === undefined,
];

/**
 * Statement texts by shape (the caller's parts, the same strings from one call to the next): the
 * text of a shape is built once per process. Building it (every part's placeholders renumbered, the parts joined) cost
 * a record about 30 µs of Node CPU, and its few kilobytes were hashed again to find the prepared
 * name (docs/benchmarks.md "The record stage by stage").
 */
const texts: { shape: (string | number | boolean | undefined)[]; sql: string }[] = [];

/**
 * The statement: the caller's parts and the take as named CTEs in the order they run; its
 * parameters are the caller's input ($1…), then the take's.
 */
function statementText(statement: BatchTakeStatement): string {
  const shape = shapeOf(statement);
  const known = texts.find((t) => t.shape.every((part, i) => part === shape[i]));
  if (known) return known.sql;
  const part = (name: string, sql: string, materialized = false): NamedPart => ({
    name,
    sql,
    params: [],
    materialized,
  });
  // Placeholders stand in for the parameters: only their number shapes the text.
  const input: NamedPart = { name: 'batch_input', ...statement.input, materialized: true };
  const takes: NamedPart = statement.given
    ? { name: 'takes', sql: TAKES_GIVEN, params: Array<null>(10).fill(null), materialized: true }
    : { name: 'takes', sql: TAKES, params: [null, null, null, null, null], materialized: true };
  const { sql } = withParts(
    [
      input,
      part('events', statement.events, true),
      ...(statement.given ? [] : [part('charges', statement.charges)]),
      takes,
      part('records', statement.records),
      ...(statement.stored ? [part('stored', statement.stored)] : []),
      // `refused` is read by `released` only
      ...(statement.release === undefined ? [] : [part('refused', REFUSED), part('released', statement.release, true)]),
    ],
    { sql: outcomes(statement.answer, statement.release !== undefined), params: [] },
  );
  texts.push({ shape, sql });
  return sql;
}

/** The batch take's statement: ONE round trip for every event of a batch, whoever's they are. */
@Injectable()
export class CreditsBatchRepository {
  async takeBatch(
    manager: EntityManager,
    take: Pick<TakeSpec, 'apiKeyId' | 'rateDefault' | 'thresholds'>,
    statement: BatchTakeStatement,
  ): Promise<(BatchTakeRow & Record<string, unknown>)[]> {
    const params: unknown[] = [
      ...statement.input.params,
      take.apiKeyId ?? null,
      take.rateDefault,
      take.thresholds,
      statement.accountIds,
      statement.createdBy,
    ];
    const { given } = statement;
    if (given) params.push(statement.amounts, given.records, given.members, given.volumes, given.scopes);
    // Named: PostgreSQL parses and plans each shape once per connection (a record's small batches too).
    return queryPrepared(manager, statement.label, { sql: statementText(statement), params });
  }
}
