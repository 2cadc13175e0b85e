import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

import { billedUser, payingOrgOf } from '../accounts/account-ref.js';
import type { ResolvedAccount } from '../auth/account-access.js';
import { cursorTimestampSql } from '../common/http/pagination.js';
import { type ItemCondition, shiftParams, type SqlPart } from '../database/statement-parts.js';
import type { InsertAfterHold, InsertAfterHolds } from '../engine/credits.service.js';
import type { Units } from '../pricing/dimensions.js';
import type { TokenKinds } from '../pricing/pricing-math.js';
import { splitFields } from '../pricing/token-counts.js';
import {
  kindList,
  TOKEN_KINDS,
  type TokenColumn,
  tokenColumn,
  tokenField,
  type TokenKind,
} from '../pricing/token-kinds.js';
import type { SessionResponseDto } from './dto/session-responses.dto.js';
import type { SessionSettlement, SessionStatus } from './entities/streaming-session.entity.js';
import type { SessionRecordExtras } from './settlement-plan.js';

/**
 * The label of the statement of initializations that arrive together (a lone one is a batch of one):
 * one text, prepared once per connection.
 */
export const HOLDS_STATEMENT = 'streaming_sessions_held_together';
/**
 * The same with a condition of another module that each hold meets on its own values (`onlyIf.each`),
 * each through its own key.
 */
export const HOLDS_IF_STATEMENT = 'streaming_sessions_held_together_if';

/** streaming_sessions rows as the module's SQL selects them, and their mapper. */
export interface SessionRow {
  session_id: string;
  user_id: string;
  model_id: string;
  estimated_tokens: number;
  estimated_credits: number;
  allocated_credits: number;
  status: SessionStatus;
  started_at: Date;
  expires_at: Date;
  settlement: SessionSettlement | null;
  /** The organisation the session holds and settles on (user_id: the member); null: the user's account. */
  org_id: string | null;
  /** The tier initialize named (auto: held at the most expensive) and the estimate's units. */
  service_tier: string | null;
  estimated_units: Units | null;
}

const SESSION_COLUMNS = `session_id, user_id, model_id, estimated_tokens, estimated_credits, allocated_credits,
  status, started_at, expires_at, settlement, org_id, service_tier, estimated_units`;

export function toSessionDto(row: SessionRow): SessionResponseDto {
  return {
    sessionId: row.session_id,
    userId: row.user_id,
    orgId: row.org_id,
    modelId: row.model_id,
    estimatedCredits: row.estimated_credits,
    allocatedCredits: row.allocated_credits,
    usedCredits: 0,
    status: row.status,
    startedAt: row.started_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    serviceTier: row.service_tier,
    estimatedUnits: row.estimated_units,
  };
}

export interface NewSession {
  sessionId: string;
  /**
   * The account that holds and settles, with the member who spends an organisation's: the row names
   * the billed user (the member, else the owner) and, for an org's, the org.
   */
  account: Pick<ResolvedAccount, 'kind' | 'ownerId' | 'memberId'>;
  modelId: string;
  estimatedTokens: number;
  /** The estimate's count of each kind, when it was given split. */
  estimateSplit: TokenKinds | null;
  estimatedCredits: number;
  allocatedCredits: number;
  startedAt: Date;
  expiresAt: Date;
  pricingRuleId: string | null;
  /** The account price in force over the rule when it started: its settlement is priced with both. */
  accountPriceId: string | null;
  /** The tier it was asked at (`auto`: held at the most expensive) and the estimate's units. */
  serviceTier: string | null;
  estimatedUnits: Units | null;
  /** The credential that opens it: its user (a JWT's, a key's owner) and its key (null: a JWT). */
  openedBy: string;
  openedByApiKeyId: string | null;
  /**
   * An in-process caller's record service and metadata, for the expiry's record when it settles it,
   * and the budget scopes its initialize named, for the record of whatever settles it.
   */
  recordExtras: SessionRecordExtras | null;
}

/** The estimate's kinds: all five columns, or none (streaming_sessions_estimate_split_check). */
const ESTIMATE_KIND_COLUMNS = kindList(estimateColumn);

/**
 * A new session's own columns in order, each with its SQL type: one list for the statement of one
 * hold (its parameters, sessionParams()) and the statement of many (its jsonb input, sessionFields()).
 * Besides them a new session has its id (the hold's session), its status (`active`) and its account
 * (the hold's, `held.account_id`).
 */
const SESSION_FIELDS: [column: string, type: string][] = [
  ['user_id', 'varchar'],
  ['model_id', 'varchar'],
  ['estimated_tokens', 'int'],
  ['estimated_credits', 'int'],
  ['allocated_credits', 'int'],
  ['started_at', 'timestamptz'],
  ['expires_at', 'timestamptz'],
  ['pricing_rule_id', 'uuid'],
  ...TOKEN_KINDS.map((kind): [string, string] => [estimateColumn(kind), 'int']),
  ['opened_by', 'varchar'],
  ['opened_by_api_key_id', 'uuid'],
  ['org_id', 'varchar'],
  ['account_price_id', 'uuid'],
  ['service_tier', 'varchar'],
  ['estimated_units', 'jsonb'],
  ['record_extras', 'jsonb'],
];

const NEW_SESSION_COLUMNS = `session_id, status, ${SESSION_FIELDS.map(([column]) => column).join(', ')}, account_id`;
/** The statement of one: $1 the session id, then the fields in SESSION_FIELDS' order. */
const NEW_SESSION_VALUES = `$1::varchar, 'active', ${SESSION_FIELDS.map(([, type], k) => `$${k + 2}::${type}`).join(', ')},
  held.account_id`;

function sessionParams(s: NewSession): unknown[] {
  const fields = sessionFields(s);
  return [
    s.sessionId,
    ...SESSION_FIELDS.map(([column, type]) =>
      type === 'jsonb' && fields[column] !== null ? JSON.stringify(fields[column]) : fields[column],
    ),
  ];
}

/**
 * A new session's fields in the input of a statement of holds (CreditsService.holdAndInsertMany),
 * read as the columns of `i`; its id is the hold's (`i.session_id`).
 */
const SESSION_INPUT_COLUMNS = SESSION_FIELDS.map(([column, type]) => `${column} ${type}`).join(', ');
const SESSION_INPUT_VALUES = `i.session_id, 'active', ${SESSION_FIELDS.map(([column]) => `i.${column}`).join(', ')},
  held.account_id`;

/** A new session's fields as SESSION_INPUT_COLUMNS reads them. */
export function sessionFields(s: NewSession): Record<string, unknown> {
  const estimate = splitFields(s.estimateSplit);
  const fields: Record<string, unknown> = {
    user_id: billedUser(s.account),
    model_id: s.modelId,
    estimated_tokens: s.estimatedTokens,
    estimated_credits: s.estimatedCredits,
    allocated_credits: s.allocatedCredits,
    started_at: s.startedAt.toISOString(),
    expires_at: s.expiresAt.toISOString(),
    pricing_rule_id: s.pricingRuleId,
    opened_by: s.openedBy,
    opened_by_api_key_id: s.openedByApiKeyId,
    org_id: payingOrgOf(s.account),
    account_price_id: s.accountPriceId,
    service_tier: s.serviceTier,
    estimated_units: s.estimatedUnits ?? null,
    record_extras: s.recordExtras ?? null,
  };
  for (const kind of TOKEN_KINDS) fields[estimateColumn(kind)] = estimate[tokenField(kind)];
  return fields;
}

/** A column of the estimate's kinds: `estimated_cache_read_tokens`. */
export function estimateColumn<K extends TokenKind>(kind: K): `estimated_${TokenColumn<K>}` {
  return `estimated_${tokenColumn(kind)}`;
}

/** The estimate's kinds: all five, or all null (estimated with one count). */
export type EstimateColumns = { [K in TokenKind as `estimated_${TokenColumn<K>}`]: number | null };

/** A session due for expiry, as the job reads it before locking it. */
export interface DueSession extends EstimateColumns {
  session_id: string;
  user_id: string;
  model_id: string;
  estimated_tokens: number;
  started_at: Date;
  service_tier: string | null;
  estimated_units: Units | null;
  record_extras: SessionRecordExtras | null;
}

/** streaming_sessions: the money path's statements (initialize, settle, expire) and the active list. */
@Injectable()
export class StreamingSessionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The sessions holding credits now: the active sessions gauge of /metrics. */
  async countActive(): Promise<number> {
    const [row]: { n: string }[] = await this.dataSource.query(
      `SELECT count(*) AS n FROM streaming_sessions WHERE status = 'active'`,
    );
    return Number(row.n);
  }

  get reader(): EntityManager {
    return this.dataSource.manager;
  }

  /**
   * The session's INSERT for CreditsService.holdAndInsert: in the hold's statement, inserted only
   * when the hold happened, with the account it held on (`held.account_id`); nothing is held when
   * the id is already used, nor when `onlyIf` (a condition of another module, over its own
   * parameters) is false.
   */
  insertAfterHold(s: NewSession, onlyIf?: SqlPart): InsertAfterHold {
    const params = sessionParams(s);
    const taken = `EXISTS (SELECT 1 FROM streaming_sessions WHERE session_id = $1::varchar AND user_id = $2::varchar)`;
    return {
      name: onlyIf ? 'streaming_session_with_hold_if' : 'streaming_session_with_hold',
      insert: `INSERT INTO streaming_sessions (${NEW_SESSION_COLUMNS}) SELECT ${NEW_SESSION_VALUES}`,
      returning: SESSION_COLUMNS,
      unless: onlyIf ? `${taken} OR NOT (${shiftParams(onlyIf.sql, params.length)})` : taken,
      params: onlyIf ? [...params, ...onlyIf.params] : params,
    };
  }

  /**
   * The sessions' INSERT for CreditsService.holdAndInsertMany (initializations that arrive together, each
   * item's fields `sessionFields()`): each inserted only when its hold happened, with the account it
   * held on; nothing is held for an id already used, nor for an item whose `each` (a condition of
   * another module over the item's own values, in its fields, and parameters shared by all) is false.
   */
  insertAfterHolds(each?: ItemCondition): InsertAfterHolds {
    // A scalar subquery, one key lookup an item at every table size: as `EXISTS`, the statement's generic
    // plan made it an anti join hashing a scan of every session at every call while the table was small
    // enough for that to look cheaper than 100 index probes (tens of thousands of sessions).
    const taken = `(SELECT true FROM streaming_sessions s WHERE s.session_id = i.session_id AND s.user_id = i.user_id) IS NOT NULL`;
    return {
      name: each ? HOLDS_IF_STATEMENT : HOLDS_STATEMENT,
      columns: each ? `${SESSION_INPUT_COLUMNS}, ${each.columns}` : SESSION_INPUT_COLUMNS,
      unless: each ? `${taken} OR NOT (${each.sql})` : taken,
      params: each?.params ?? [],
      insert: `INSERT INTO streaming_sessions (${NEW_SESSION_COLUMNS}) SELECT ${SESSION_INPUT_VALUES}`,
      returning: SESSION_COLUMNS,
      match: `inserted.session_id = i.session_id AND inserted.user_id = i.user_id`,
    };
  }

  /** Active sessions oldest first (one user's with `userId`), after the keyset cursor. */
  listActive(query: {
    userId?: string;
    after: { t: string; sessionId: string; userId: string } | null;
    limit: number;
  }): Promise<(SessionRow & { cursor_t: string })[]> {
    const params: unknown[] = [];
    const where = [`status = 'active'`];
    if (query.userId !== undefined) {
      params.push(query.userId);
      where.push(`user_id = $${params.length}`);
    }
    if (query.after) {
      params.push(query.after.t, query.after.sessionId, query.after.userId);
      const [t, s, u] = [params.length - 2, params.length - 1, params.length];
      where.push(`(started_at, session_id, user_id) > ($${t}::timestamptz, $${s}, $${u})`);
    }
    params.push(query.limit);
    // The cursor keeps microseconds (a JS Date would round them and repeat rows across pages).
    return this.dataSource.query(
      `SELECT ${SESSION_COLUMNS}, ${cursorTimestampSql('started_at')} AS cursor_t FROM streaming_sessions
        WHERE ${where.join(' AND ')}
        ORDER BY started_at, session_id, user_id
        LIMIT $${params.length}`,
      params,
    );
  }

  /**
   * A member's open sessions on an organisation's account (the account each pays from, `account_id`),
   * oldest first (read without locks; each is locked to settle).
   */
  openOrgSessions(manager: EntityManager, accountId: string, userId: string): Promise<{ session_id: string }[]> {
    return manager.query(
      `SELECT session_id FROM streaming_sessions
        WHERE user_id = $1 AND account_id = $2::bigint AND status = 'active'
        ORDER BY started_at, session_id`,
      [userId, accountId],
    );
  }

  /** Active sessions past their expiry, soonest first (read without locks; each is locked later). */
  dueForExpiry(limit: number): Promise<DueSession[]> {
    return this.dataSource.query(
      `SELECT session_id, user_id, model_id, estimated_tokens, ${ESTIMATE_KIND_COLUMNS}, started_at, service_tier,
              estimated_units, record_extras FROM streaming_sessions
        WHERE status = 'active' AND expires_at <= now()
        ORDER BY expires_at
        LIMIT $1`,
      [limit],
    );
  }
}
