import { Injectable } from '@nestjs/common';

import { MAX_CREDITS } from '../common/validation/amounts.js';
import type { SqlPart } from '../database/statement-parts.js';
import type { Dimensions } from '../pricing/dimensions.js';
import {
  dimensionProblemsSql,
  exactCreditsSql,
  providerCostSql,
  type SqlKinds,
  volumeChargeSql,
} from '../pricing/pricing.sql.js';
import type { TokenKinds } from '../pricing/pricing-math.js';
import { perKind, TOKEN_KINDS } from '../pricing/token-kinds.js';
import type { RecordInStatement } from '../usage/usage-records.repository.js';
import type { SessionStatus, SettlementRequest } from './entities/streaming-session.entity.js';
import type { SettledSession } from './settlement.js';
import { estimateColumn, type SessionRow } from './streaming-sessions.repository.js';

/**
 * The streaming module's parts of a settlement statement (CreditsService.settleSession): the CTE
 * `settling` that locks and prices the session, and the writes after the money moved, which read
 * `settling` and the credits module's `settled` (`out_refund`, `out_shortfall`).
 */

/** The row a settlement statement answers: the locked session, priced, and what was written. */
export interface SettlingRow extends SessionRow {
  /** The charge (numeric, as text); null when the model has no rule in strict mode. */
  charge: string | null;
  /** Whether it was settled by this statement (active, priced, within the credit range). */
  settle: boolean;
  /** What pricing the settlement's tier and units refused (finalize and abort; absent elsewhere). */
  unknown_tier?: boolean;
  unpriced_unit?: string | null;
  /** The stored settlement's amounts (null while active). */
  actual_credits: number | null;
  refund: number | null;
  shortfall: number | null;
  /** What this statement stored (when it settled): the settled status and amounts. */
  settled_status: SettledSession['status'] | null;
  settled_actual_credits: number | null;
  settled_refund: number | null;
  settled_shortfall: number | null;
}

/** The settlement's own values, known before the statement. */
export interface SettlementWrite {
  status: Exclude<SessionStatus, 'active'>;
  request: SettlementRequest;
  settledAt: Date;
  /** The tokens reported (null for an expiry). */
  actualTokens: number | null;
  usageRecordId: string;
}

/**
 * An expired session's estimate, as its provider cost: each kind of a split estimate; one count
 * (all five NULL) as input, as it was priced.
 */
const ESTIMATE_KINDS: SqlKinds = perKind(
  (kind) => `COALESCE(ss.${estimateColumn(kind)}, ${kind === 'input' ? 'ss.estimated_tokens' : '0'})`,
);

/** No token of any kind (a released session's cost). */
const NOTHING: SqlKinds = perKind(() => '0');

/**
 * The prices a session settles at: its rule's or its stored catalogue price's (`pricing_prices`, a
 * union of both), at most one row. Joined plainly, the planner counts a row from each side of the
 * union, and the writes joined after it multiply that guess: the prepared statement's generic plan
 * came to an estimate of millions of rows and a cost past `jit_above_cost`, so it was planned anew at
 * every call. The LIMIT tells the planner what the ids already promise.
 */
const PRICES_OF_SESSION = `LATERAL (SELECT * FROM pricing_prices pp WHERE pp.id = ss.pricing_rule_id LIMIT 1)`;

/** The locked session's columns, with the account that pays for it (its org's, else its user's, kept at initialize). */
const LOCKED_COLUMNS = `ss.session_id, ss.user_id, ss.model_id, ss.estimated_tokens, ss.estimated_credits,
  ss.allocated_credits, ss.status, ss.started_at, ss.expires_at, ss.settlement, ss.pricing_rule_id, ss.account_price_id,
  ss.actual_credits, ss.refund, ss.shortfall, ss.opened_by, ss.opened_by_api_key_id, ss.org_id, ss.service_tier,
  ss.estimated_units, ss.record_extras, ss.account_id`;

/** The values a settlement prices a session with, as SQL (parameters, or an item's input columns). */
export interface SettleExprs {
  kinds: SqlKinds;
  fallback: string;
  callerId: string;
  callerKey: string;
  dims: { tier: string; units: string };
  total: string;
  expiryDays: string;
}

/**
 * The settlement's SELECT of the sessions `from` (with `ss`) and `where` name, locked and priced:
 * `extra` columns first, then `ORDER BY ${order}` before the lock when given (the order a statement
 * of many locks its sessions in).
 */
export function settleSelect(e: SettleExprs, from: string, where: string, extra = '', order = ''): string {
  // On a rule with volume steps the engine decides the charge under the lock (credits_settle()).
  // The price is computed once, in a subquery the planner keeps (OFFSET 0): flattened, its
  // expressions were copied to each place that names them (the charge, the settle test twice, the
  // volume's base, the unpriced unit twice), each compiled at every call and most evaluated too,
  // 4 % of the streaming pair's PostgreSQL instructions (docs/benchmarks.md "Where the streaming pair's
  // time went").
  const exact = exactCreditsSql('r', e.kinds, e.fallback, 'ap', e.dims);
  return `SELECT ${extra}${LOCKED_COLUMNS}, p.charge, p.provider_cost, ${e.callerId} AS caller_id, ${e.callerKey} AS caller_key,
                   p.unknown_tier, p.unpriced_unit, ${volumeChargeSql('r', 'ss.model_id', e.total, 'p.base', e.expiryDays)} AS volume,
                   ss.status = 'active' AND p.charge IS NOT NULL AND p.charge <= ${MAX_CREDITS}
                     AND NOT p.unknown_tier AND p.unpriced_unit IS NULL AS settle
              FROM ${from}
              LEFT JOIN ${PRICES_OF_SESSION} r ON true
              LEFT JOIN account_prices ap ON ap.id = ss.account_price_id
             CROSS JOIN LATERAL (
               SELECT ceil(x.base) AS charge, x.base, x.provider_cost, x.unknown_tier, x.unpriced_unit
                 FROM (SELECT ${exact} AS base,
                              ${providerCostSql('r', e.kinds)} AS provider_cost,
                              ${dimensionProblemsSql('r', e.dims, 'ap')} OFFSET 0) x) p
             WHERE ${where}${order ? `\n             ORDER BY ${order}` : ''}
               FOR UPDATE OF ss`;
}

/** Seconds from the start to $n (a timestamptz parameter), to the millisecond, as the metadata has it. */
export const durationSql = (settledAt: string) =>
  `round(GREATEST(0, extract(epoch FROM (${settledAt}::timestamptz - settling.started_at))), 3)`;

/** The settlement's figures in its record's metadata, over `settling` and `settled`. */
export const metadataPairs = (settledAt: string) =>
  `'estimatedCredits', settling.estimated_credits, 'actualCredits', settled.out_charge,
                'shortfall', settled.out_shortfall, 'durationSeconds', ${durationSql(settledAt)}`;

/**
 * The usage record's values that only a settlement statement knows, over `settling` and `settled` in
 * `from`: credits = what was collected, the charge less the shortfall.
 */
export function recordSql(from: string, metadata: SqlPart): RecordInStatement {
  return {
    from,
    // The session's account pays the record too: user_id stays the member of an org's.
    account: 'settling',
    operation: 'settling.model_id',
    modelId: 'settling.model_id',
    credits: 'settled.out_charge - settled.out_shortfall',
    volumeStep: 'settled.out_volume_step',
    pricingRuleId: 'settling.pricing_rule_id',
    accountPriceId: 'settling.account_price_id',
    providerCost: 'settling.provider_cost',
    shortfall: 'settled.out_shortfall',
    // The settling credential (an expiry: the one that opened it).
    apiKeyId: 'settling.caller_key',
    actorId: 'NULLIF(settling.caller_id, settling.user_id)',
    // The budget scopes the initialize named (kept on the session), so stats by scope count it.
    scopes: `settling.record_extras -> 'scopes'`,
    metadata,
  };
}

/**
 * The settled columns of a settlement statement's row: what this statement stored when it settled,
 * else what the session stored before; null while it is active.
 */
export function settledColumns(row: SettlingRow): SettledSession | null {
  const now = row.settled_status !== null;
  const status = now ? row.settled_status : row.status;
  const actual = now ? row.settled_actual_credits : row.actual_credits;
  const refund = now ? row.settled_refund : row.refund;
  const shortfall = now ? row.settled_shortfall : row.shortfall;
  if (status === null || status === 'active' || actual === null || refund === null || shortfall === null) return null;
  return { ...row, status, actual_credits: actual, refund, shortfall };
}

@Injectable()
export class SessionSettlementsRepository {
  /**
   * The caller's session locked (FOR UPDATE), its tokens priced at the session's rule (the one in
   * effect when it started, fixed at initialize; the fallback price when it had none) and its account
   * price (the one in force then, if any), to settle
   * when active, priced and within the credit range.
   */
  lockToSettle(
    sessionId: string,
    userId: string,
    tokens: TokenKinds,
    fallbackPrice: string | null,
    caller: { userId: string; apiKeyId: string | null },
    dimensions: Dimensions,
    volume: { tokens: number; expiryDays: number },
  ): SqlPart {
    // $1 session, $2 user, one per kind, the fallback price, the caller and its key, the tier and the
    // units, the total tokens and a volume give-back's days after the period.
    const kinds: SqlKinds = perKind((kind) => `$${3 + TOKEN_KINDS.indexOf(kind)}::int`);
    const fallback = `$${3 + TOKEN_KINDS.length}::numeric`;
    const callerId = `$${4 + TOKEN_KINDS.length}::varchar`;
    const callerKey = `$${5 + TOKEN_KINDS.length}::uuid`;
    const dims = { tier: `$${6 + TOKEN_KINDS.length}::varchar`, units: `$${7 + TOKEN_KINDS.length}::jsonb` };
    const [total, expiryDays] = [`$${8 + TOKEN_KINDS.length}::bigint`, `$${9 + TOKEN_KINDS.length}::int`];
    return {
      sql: settleSelect(
        { kinds, fallback, callerId, callerKey, dims, total, expiryDays },
        'streaming_sessions ss',
        'ss.session_id = $1::varchar AND ss.user_id = $2::varchar',
      ),
      params: [
        sessionId,
        userId,
        ...TOKEN_KINDS.map((kind) => tokens[kind]),
        fallbackPrice,
        caller.userId,
        caller.apiKeyId,
        dimensions.serviceTier,
        dimensions.units ? JSON.stringify(dimensions.units) : null,
        volume.tokens,
        volume.expiryDays,
      ],
    };
  }

  /**
   * A session still active and due, locked unless another worker has it (SKIP LOCKED), charged its
   * estimate (on a rule with volume steps, the estimate's tokens priced by the engine at the steps,
   * against the period total as it is now).
   */
  lockDueToExpire(sessionId: string, userId: string, expiryDays: number): SqlPart {
    // On a rule with volume steps the estimate is priced at the steps by the engine, like a record.
    const dims = { tier: 'ss.service_tier', units: 'ss.estimated_units' };
    const exact = exactCreditsSql('r', ESTIMATE_KINDS, 'NULL::numeric', 'ap', dims);
    return {
      sql: `SELECT ${LOCKED_COLUMNS}, ss.estimated_credits::numeric AS charge,
                   ${volumeChargeSql('r', 'ss.model_id', 'ss.estimated_tokens', exact, '$3::int')} AS volume,
                   ss.opened_by AS caller_id, ss.opened_by_api_key_id AS caller_key,
                   ${providerCostSql('r', ESTIMATE_KINDS)} AS provider_cost, true AS settle
              FROM streaming_sessions ss
              LEFT JOIN ${PRICES_OF_SESSION} r ON true
              LEFT JOIN account_prices ap ON ap.id = ss.account_price_id
             WHERE ss.session_id = $1::varchar AND ss.user_id = $2::varchar
               AND ss.status = 'active' AND ss.expires_at <= now()
               FOR UPDATE OF ss SKIP LOCKED`,
      params: [sessionId, userId, expiryDays],
    };
  }

  /**
   * An open session of a member on an organisation's account (`accountId`, the account it pays from),
   * locked, charged nothing (a release: cut off before any token), settled by `by`; not when it is
   * settled already or not the org's.
   */
  lockToRelease(sessionId: string, userId: string, accountId: string, by: string): SqlPart {
    return {
      sql: `SELECT ${LOCKED_COLUMNS}, 0::numeric AS charge, NULL::jsonb AS volume, $4::varchar AS caller_id, NULL::uuid AS caller_key,
                   ${providerCostSql('r', NOTHING)} AS provider_cost, ss.status = 'active' AS settle
              FROM streaming_sessions ss
              LEFT JOIN ${PRICES_OF_SESSION} r ON true
             WHERE ss.session_id = $1::varchar AND ss.user_id = $2::varchar AND ss.account_id = $3::bigint
               FOR UPDATE OF ss`,
      params: [sessionId, userId, accountId, by],
    };
  }

  /**
   * The usage record's values that only the statement knows, as SQL over `s` and `x` (for
   * UsageService.insertInStatement): credits = what was collected, the charge less the shortfall.
   */
  recordValues(settledAt: Date): RecordInStatement {
    return recordSql('settling, settled', {
      sql: `jsonb_build_object(${metadataPairs('$1')})`,
      params: [settledAt],
    });
  }

  /**
   * Marks the session settled: the status, the amounts and the record in their columns, and the
   * request (a retry of the same request is answered the stored settlement again). Answers the
   * settled columns, which the answer is built from (settlement.ts).
   */
  markSettled(w: SettlementWrite): SqlPart {
    return {
      sql: `UPDATE streaming_sessions ss
               SET status = $1::varchar, settled_at = $2::timestamptz, actual_tokens = $3::int,
                   actual_credits = settled.out_charge, refund = settled.out_refund::int, shortfall = settled.out_shortfall::int,
                   usage_record_id = $4::uuid, settlement = jsonb_build_object('request', $5::jsonb)
              FROM settling, settled
             WHERE ss.session_id = settling.session_id AND ss.user_id = settling.user_id
            RETURNING ss.status AS settled_status, ss.actual_credits AS settled_actual_credits,
                      ss.refund AS settled_refund, ss.shortfall AS settled_shortfall`,
      params: [w.status, w.settledAt, w.actualTokens, w.usageRecordId, JSON.stringify(w.request)],
    };
  }

  /**
   * The audit entry of an abort by another credential than the one that opened the session
   * (docs/audit.md "Who acted, beyond the audit log"): its SQL over `settling` and `settled`, for AuditService.inStatement.
   * Sessions opened before the opener was kept: audited when the caller is not the billed user.
   */
  abortAudit(): { from: string; where: string; targetId: string; before: string; after: string } {
    return {
      from: 'settling, settled',
      where: `CASE WHEN settling.opened_by IS NULL THEN settling.caller_id IS DISTINCT FROM settling.user_id
                   ELSE settling.opened_by IS DISTINCT FROM settling.caller_id
                        OR settling.opened_by_api_key_id IS DISTINCT FROM settling.caller_key END`,
      targetId: `settling.user_id || '/' || settling.session_id`,
      before: `jsonb_build_object('userId', settling.user_id, 'sessionId', settling.session_id, 'status', 'active',
                 'openedBy', settling.opened_by, 'openedByApiKeyId', settling.opened_by_api_key_id)`,
      after: `jsonb_build_object('sessionId', settling.session_id, 'userId', settling.user_id, 'status', 'aborted',
                'partialCredits', settled.out_charge, 'refund', settled.out_refund::int,
                'shortfall', settled.out_shortfall::int)`,
    };
  }

  /** usage.needs_review for a shortfall, through the outbox, in the settlement's statement. */
  needsReview(usageRecordId: string): SqlPart {
    return {
      sql: `SELECT emit_event('usage.needs_review', settling.user_id,
                     jsonb_build_object('userId', settling.user_id, 'usageRecordId', $1::uuid, 'shortfall', settled.out_shortfall)
                     || CASE WHEN settling.org_id IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('orgId', settling.org_id) END)
                     AS review_event_id
              FROM settling, settled WHERE settled.out_shortfall > 0`,
      params: [usageRecordId],
    };
  }

  /**
   * The settlement's commit without waiting for its WAL flush (its own transaction's
   * `synchronous_commit`), when nobody waits for its answer: its locks are let go a flush sooner
   * (docs/gateway.md "Added latency").
   */
  unflushed(): SqlPart {
    return { sql: `SELECT set_config('synchronous_commit', 'off', true) AS unflushed`, params: [] };
  }
}
