import type { SqlPart } from '../database/statement-parts.js';
import type { SqlKinds } from '../pricing/pricing.sql.js';
import { perKind, TOKEN_KINDS, tokenColumn } from '../pricing/token-kinds.js';
import { RECORD_INPUT_COLUMNS, type RecordInStatement } from '../usage/usage-records.repository.js';
import { metadataPairs, recordSql, settleSelect } from './session-settlements.repository.js';

/**
 * The streaming module's parts of a statement of finalizes that arrive together
 * (CreditsService.settleSessions, docs/money.md "Finalizes that arrive together"): the same
 * SQL as one settlement's (session-settlements.repository.ts), each item's own values read from its
 * row `i` of the statement's `input` instead of parameters.
 */

/** The input columns of one settlement (besides `ord`): the session, its pricing, its writes, its record's. */
export const SETTLE_INPUT_COLUMNS = `session_id varchar, user_id varchar,
  ${TOKEN_KINDS.map((kind) => `price_${tokenColumn(kind)} int`).join(', ')}, caller_id varchar, caller_key uuid,
  price_tier varchar, price_units jsonb, total bigint, created_by varchar, usage_record_id uuid, status varchar,
  settled_at timestamptz, actual_tokens int, request jsonb, ${RECORD_INPUT_COLUMNS}`;

/**
 * The items' sessions locked (FOR UPDATE) in (user, session) order, which every such statement
 * shares, so two of them never deadlock on their sessions; each priced as lockToSettle prices one.
 * $1 the fallback price, $2 a volume give-back's days after the period (the same for every item).
 * Each item's session is a lookup of its own (`OFFSET 0` keeps it a subquery, the lock inside it),
 * run over the items in that order: joined, the planner expected `input`'s 100 rows and hashed them
 * against a scan of every session, which cost the streaming pair more than half its PostgreSQL
 * instructions (docs/benchmarks.md "The pair counted in instructions").
 */
export function lockManyToSettle(fallbackPrice: string | null, expiryDays: number): SqlPart {
  const kinds: SqlKinds = perKind((kind) => `i.price_${tokenColumn(kind)}`);
  return {
    sql: settleSelect(
      {
        kinds,
        fallback: '$1::numeric',
        callerId: 'i.caller_id',
        callerKey: 'i.caller_key',
        dims: { tier: 'i.price_tier', units: 'i.price_units' },
        total: 'i.total',
        expiryDays: '$2::int',
      },
      `(SELECT * FROM input ORDER BY input.user_id, input.session_id) i
              CROSS JOIN LATERAL (SELECT * FROM streaming_sessions ss
                                   WHERE ss.session_id = i.session_id AND ss.user_id = i.user_id OFFSET 0) ss`,
      'true',
      'i.ord, i.created_by, i.usage_record_id, ',
    ),
    params: [fallbackPrice, expiryDays],
  };
}

/** Each settled item's rows: its settling row, its settlement and its input. */
const SETTLED_ITEMS = 'settling JOIN settled ON settled.ord = settling.ord JOIN input i ON i.ord = settling.ord';

/** The usage record's values that only the statement knows, as recordValues gives one's, per item. */
export function recordValuesMany(): RecordInStatement {
  return recordSql(SETTLED_ITEMS, { sql: `jsonb_build_object(${metadataPairs('i.settled_at')})`, params: [] });
}

/** Marks each settled item's session settled, as markSettled marks one; answers `marked_ord`. */
export const MARK_SETTLED_MANY = `UPDATE streaming_sessions ss
     SET status = i.status, settled_at = i.settled_at, actual_tokens = i.actual_tokens,
         actual_credits = settled.out_charge, refund = settled.out_refund::int, shortfall = settled.out_shortfall::int,
         usage_record_id = i.usage_record_id, settlement = jsonb_build_object('request', i.request)
    FROM ${SETTLED_ITEMS}
   WHERE ss.session_id = settling.session_id AND ss.user_id = settling.user_id
  RETURNING settling.ord AS marked_ord, ss.status AS settled_status, ss.actual_credits AS settled_actual_credits,
            ss.refund AS settled_refund, ss.shortfall AS settled_shortfall`;

/** usage.needs_review for each shortfall, as needsReview emits one; answers `review_ord`. */
export const NEEDS_REVIEW_MANY = `SELECT settling.ord AS review_ord,
         emit_event('usage.needs_review', settling.user_id,
           jsonb_build_object('userId', settling.user_id, 'usageRecordId', i.usage_record_id, 'shortfall', settled.out_shortfall)
           || CASE WHEN settling.org_id IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('orgId', settling.org_id) END)
           AS review_event_id
    FROM ${SETTLED_ITEMS} WHERE settled.out_shortfall > 0`;

/** The statement's commit without waiting for its flush (unflushed's, for a statement nobody waits on). */
export const UNFLUSHED_MANY = `SELECT set_config('synchronous_commit', 'off', true) AS unflushed`;
