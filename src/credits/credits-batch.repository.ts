import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { AccountIds } from '../accounts/account-ids.js';
import type { PublicAccount } from '../auth/account-access.js';
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
  /** The account each event charges, in the same order (resolved to account ids by AccountIds). */
  accounts: PublicAccount[];
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
   * else null) and `scopes` (jsonb, the budget scopes it names; null: none); the account it charges
   * is `accounts[ord - 1]`.
   */
  charges: string;
  /**
   * CTE `records`, after the take: an INSERT … RETURNING `id` of the records of the events the take
   * let through (it reads `takes`: `out_usage_record_id`, `out_status` 'ok'). A record is written
   * once: a refused event never writes one.
   */
  records: string;
  /**
   * CTE `released`, after the take (one row): reads `refused` (`usage_record_id`, one row per new
   * event the take refused) and undoes what `events` claimed for them.
   */
  release: string;
  /**
   * Optional columns of each created event's record in its outcome row: a select list over `r`, a
   * row of `records` (whose RETURNING must give them), NULL for the other events.
   */
  answer?: string;
  /** The prepared statement's label (its name: the label and a hash of the text). */
  label: string;
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
    | 'budget_exceeded';
  out_usage_record_id: string | null;
  out_collected: string;
  out_debt: string;
  out_balance: string;
  out_retry_after: number | null;
  /** A refusal by a budget: which, and its state (credits_take_events()); else the hold's parts or []. */
  out_parts: unknown;
}

/**
 * The take: credits_take_events() over `charges` in event order, each with the account id of its
 * event ($5, one per event in event order; null: no account, the take's no_account).
 */
const TAKES = `SELECT k.*
  FROM (SELECT array_agg(($5::bigint[])[c.ord::int] ORDER BY c.ord) AS accounts,
               array_agg(c.amount ORDER BY c.ord) AS amounts, array_agg(c.id ORDER BY c.ord) AS records,
               array_agg(c.member ORDER BY c.ord) AS members,
               CASE WHEN bool_or(c.scopes IS NOT NULL) THEN array_agg(c.scopes ORDER BY c.ord) END AS scopes
          FROM charges c) i,
       LATERAL credits_take_events($1, $2::uuid, $3::int, $4::int[], i.accounts, i.amounts, i.records, i.members,
                                   p_scopes => i.scopes) k`;
const REFUSED = `SELECT t.out_usage_record_id AS usage_record_id FROM takes t WHERE t.out_status <> 'ok'`;
/**
 * Every event's outcome: the take's for a new one, the caller's (duplicate, unknown_user) else; with
 * `answer`, those columns of a created event's record.
 */
function outcomes(answer: string | undefined): string {
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
  }
 CROSS JOIN released
 ORDER BY e.out_ord`;
}

/** The batch take's statement: ONE round trip for every event of a batch, whoever's they are. */
@Injectable()
export class CreditsBatchRepository {
  constructor(@Inject(AccountIds) private readonly ids: AccountIds) {}

  async takeBatch(
    manager: EntityManager,
    take: Pick<TakeSpec, 'apiKeyId' | 'rateDefault' | 'thresholds'> & { createdBy: string },
    statement: BatchTakeStatement,
  ): Promise<(BatchTakeRow & Record<string, unknown>)[]> {
    // The events' account ids: no statement for the accounts this instance knows (AccountIds).
    const accountIds = await this.ids.ofMany(manager, statement.accounts);
    const part = (name: string, sql: string, materialized = false): NamedPart => ({
      name,
      sql,
      params: [],
      materialized,
    });
    const takes: NamedPart = {
      name: 'takes',
      sql: TAKES,
      params: [take.createdBy, take.apiKeyId ?? null, take.rateDefault, take.thresholds, accountIds],
      materialized: true,
    };
    const { sql, params } = withParts(
      [
        { name: 'batch_input', ...statement.input, materialized: true },
        part('events', statement.events, true),
        part('charges', statement.charges),
        takes,
        part('records', statement.records),
        part('refused', REFUSED),
        part('released', statement.release, true),
      ],
      { sql: outcomes(statement.answer), params: [] },
    );
    // Named: PostgreSQL parses and plans each shape once per connection (a record's small batches too).
    return queryPrepared(manager, statement.label, { sql, params });
  }
}
