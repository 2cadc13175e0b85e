import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { EntityManager } from 'typeorm';

import type { AuthUser } from '../auth/roles.js';
import { roleSatisfies } from '../auth/roles.js';
import type { ErasedRows } from '../common/erasure.js';
import { decodeTimeCursor, type Page, toPage } from '../common/http/pagination.js';
import { currentRequest } from '../common/logging/logger.js';
import { parseDateRange } from '../common/validation/date-range.js';
import type { SqlPart } from '../database/statement-parts.js';
import { type AuditFilter, type AuditInsert, AuditRepository, type AuditSqlRow } from './audit.repository.js';
import { type ACCOUNT_TARGETS, AUDIT_ACTIONS, type AuditAction, withoutSecrets } from './audit-actions.js';
import type { AuditEntryDto } from './dto/audit.dto.js';

/** A change to record: what was done to which object, and the object before and after (null: none). */
export interface AuditChange {
  action: AuditAction;
  targetId: string;
  before: object | null;
  after: object | null;
  /**
   * The target's type when it is not the action's own: an action on an account's settings or plan
   * (its target type `user`) done to an organisation's account names the org (`org`).
   */
  targetType?: (typeof ACCOUNT_TARGETS)[number];
  /**
   * Audited whoever makes it, an ordinary user too: a change to what only the audited may create (a
   * service key whose owner has since become a user).
   */
  whoever?: boolean;
  /**
   * A change no authenticated caller made, by a verified outside party (a payment provider's signed
   * webhook): recorded with this actor (`actorRole` "system") instead of the request's.
   */
  system?: { actorUserId: string; actorVia: 'webhook' };
}

/**
 * Whether changes by this caller are audited: supervisors and admins (by JWT) and service keys (API
 * keys with `usage:ingest`). A user's own changes, through a token or their own key, are not.
 */
export function isAuditedActor(actor: AuthUser): boolean {
  if (actor.via === 'api-key') return actor.scopes?.includes('usage:ingest') ?? false;
  return roleSatisfies(actor.role, 'supervisor');
}

/**
 * The audit log's entry point. `record` writes one entry in the caller's transaction (pass the
 * manager of the transaction making the change): it rolls back with the change and commits with it.
 *
 * The actor and the request id are the request's own, read from its context: every audited change
 * is made by a request, and threading the caller through every service signature for this alone
 * would add nothing. Outside a request (jobs) or for a caller that is not audited (unless the change
 * says `whoever`), nothing is written.
 * An idempotent replay never reaches the services, so it writes no second entry.
 */
@Injectable()
export class AuditService {
  constructor(private readonly audit: AuditRepository) {}

  /**
   * An erasure's pass over the log (docs/erasure.md): `audit_log_erase()`, the one function that may
   * rewrite entries, takes the user's email and username out of their own entries (those they acted
   * in, those about their account or about one of `targets`, their rows). Run in the erasure's
   * transaction before the account forgets them; answers how many entries it rewrote.
   */
  eraseMentions(manager: EntityManager, userId: string, targets: ErasedRows[]): Promise<number> {
    return this.audit.eraseMentions(manager, userId, targets);
  }

  async record(manager: EntityManager, change: AuditChange): Promise<void> {
    const entry = this.entryFor(change);
    if (entry) await this.audit.insert(manager, entry);
  }

  /**
   * The entry `record` writes for this change by this request's actor; null when it writes none.
   */
  entryFor(change: AuditChange): AuditInsert | null {
    const req = currentRequest() as (Request & { user?: AuthUser; id?: string }) | undefined;
    const caller = req?.user;
    const actor = change.system
      ? { userId: change.system.actorUserId, role: 'system', via: change.system.actorVia, apiKeyId: undefined }
      : caller;
    if (!actor || !(change.system || change.whoever || (caller && isAuditedActor(caller)))) return null;
    return {
      actorUserId: actor.userId,
      actorRole: actor.role,
      actorVia: actor.via,
      actorApiKeyId: actor.apiKeyId ?? null,
      action: change.action,
      targetType: change.targetType ?? AUDIT_ACTIONS[change.action],
      targetId: change.targetId,
      before: change.before === null ? null : withoutSecrets(change.before),
      after: change.after === null ? null : withoutSecrets(change.after),
      requestId: req?.id ?? null,
    };
  }

  /**
   * `record` as a part of another module's statement (a settlement decides in SQL whether it is an
   * operator's change): the entry for the rows `sql.where` keeps, with this request's actor, the
   * target and `after` given as SQL. Null outside a request (nothing to record).
   */
  inStatement(
    action: AuditAction,
    sql: { from: string; where: string; targetId: string; before: string; after: string },
  ): SqlPart | null {
    const req = currentRequest() as (Request & { user?: AuthUser; id?: string }) | undefined;
    const actor = req?.user;
    if (!actor) return null;
    return this.audit.insertInStatement(
      {
        actorUserId: actor.userId,
        actorRole: actor.role,
        actorVia: actor.via,
        actorApiKeyId: actor.apiKeyId ?? null,
        action,
        targetType: AUDIT_ACTIONS[action],
        requestId: req.id ?? null,
      },
      sql,
    );
  }

  /**
   * What `list` and the other modules' entries read for a query of the log: its cursor and dates
   * checked (a bad one is refused before any statement).
   */
  filterOf(query: {
    actor?: string;
    action?: string;
    targetType?: string;
    targetId?: string;
    from?: string;
    to?: string;
    cursor?: string;
  }): AuditFilter {
    const after = decodeTimeCursor(query.cursor, 'uuid');
    const range = parseDateRange(query.from, query.to, ['from', 'to']);
    return {
      actor: query.actor,
      action: query.action,
      targetType: query.targetType,
      targetId: query.targetId,
      range,
      after,
    };
  }

  /**
   * The log's entries matching `filter`, newest first, with `otherEntries`: the entries another
   * module's rows are themselves, as SQL of that module for the same filter (AuditRepository.list).
   * The caller sits above that module and hands its part down, so audit imports no module above it.
   */
  async list(filter: AuditFilter, limit: number, otherEntries: readonly SqlPart[]): Promise<Page<AuditEntryDto>> {
    const rows = await this.audit.list(filter, limit, otherEntries);
    return toPage(rows, limit, toAuditEntry, (r) => ({ t: r.t_key, id: r.id }));
  }
}

function toAuditEntry(r: AuditSqlRow): AuditEntryDto {
  return {
    id: r.id,
    at: r.at,
    actor: {
      userId: r.actor_user_id,
      ...(r.actor_role !== null ? { role: r.actor_role } : {}),
      via: r.actor_via,
      ...(r.actor_api_key_id ? { apiKeyId: r.actor_api_key_id } : {}),
    },
    action: r.action,
    target: { type: r.target_type, id: r.target_id },
    before: r.before,
    after: r.after,
    requestId: r.request_id,
  };
}
