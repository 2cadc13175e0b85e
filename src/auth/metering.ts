import { DomainError, NotAMemberError } from '../common/errors/domain-error.js';
import type { MeteringTrust } from '../config/app-config.js';
import type { AuthUser } from './roles.js';

/**
 * Service principals (docs/trust-model.md): an admin's JWT, or an API key holding the
 * `usage:ingest` scope (a service key: only an admin can give a key that scope). They may meter any
 * user's usage, naming the user; under METERING_TRUST=service nobody else may meter at all.
 */
export function isServicePrincipal(user: AuthUser): boolean {
  return user.via === 'api-key' ? (user.scopes ?? []).includes('usage:ingest') : user.role === 'admin';
}

/** The 403 of a metering write from a principal the trust mode does not let meter. */
export function assertMayMeter(user: AuthUser, trust: MeteringTrust): void {
  if (trust === 'service' && !isServicePrincipal(user)) {
    throw new DomainError(
      'METERING_REQUIRES_SERVICE',
      'Only service principals (an admin token, or an API key with usage:ingest) may record usage or open and ' +
        'settle sessions; the billed user cannot',
    );
  }
}

/** Whom a metering write bills, through which of their API keys, and who wrote it. */
export interface BilledParty {
  /** The billed user; with `orgId`, the member who used what the organisation pays for. */
  userId: string;
  /** The organisation that pays (the engine checks that `userId` is an active member); null: the user's account. */
  orgId: string | null;
  /**
   * The key the usage goes through, whose budget counts it and which the ledger names: the billed
   * user's key a service principal named, else the caller's own key (null: a JWT, naming none).
   */
  apiKeyId: string | null;
  /** The principal that wrote it (the ledger's `created_by`). */
  createdBy: string;
  /** The credential that wrote it: its API key (null: a JWT), and its user when not the billed one. */
  actor: Actor;
  /**
   * The model lists of the API keys the write goes through (the calling key's, a named key's; null:
   * every model): each must allow the model it names (docs/pricing.md "Model entitlements").
   */
  keyModels: (readonly string[] | null)[];
}

/** Who acted (docs/audit.md "Who acted, beyond the audit log"): the key that wrote a record, and its writer when not the billed user. */
export interface Actor {
  apiKeyId: string | null;
  /** The JWT's user or the key's owner; null when that is the billed user. */
  actorId: string | null;
}

/** The actor of a write by `caller` billed to `userId`. */
export function actorOf(caller: AuthUser, userId: string): Actor {
  return { apiKeyId: caller.apiKeyId ?? null, actorId: caller.userId === userId ? null : caller.userId };
}

/** What a metering body may say about whom it bills. */
export interface NamedParty {
  userId?: string;
  apiKeyId?: string;
  orgId?: string;
}

/**
 * The organisation a write charges: the one named, else the one the key of a membership charges. A
 * key of one organisation naming another → NOT_A_MEMBER (the key's owner acts only for its org).
 */
export function payingOrg(named: string | undefined, keyOrg: string | null | undefined, userId: string): string | null {
  if (keyOrg && named !== undefined && named !== keyOrg) throw new NotAMemberError(named, userId);
  return named ?? keyOrg ?? null;
}

/**
 * The billed party before the named key is checked: a service principal bills `userId` (a service key
 * must name it; an admin's token without it meters the admin's own account) through the named key, or
 * its own;
 * anyone else bills their own account through the key they called with and may name neither.
 */
export function billedParty(caller: AuthUser, named: NamedParty): BilledParty {
  if (!isServicePrincipal(caller)) {
    if (named.userId !== undefined || named.apiKeyId !== undefined) {
      throw new DomainError(
        'VALIDATION',
        'userId and apiKeyId may be given only by a service principal (an admin token, or an API key with usage:ingest)',
      );
    }
    return {
      userId: caller.userId,
      orgId: payingOrg(named.orgId, caller.orgId, caller.userId),
      apiKeyId: caller.apiKeyId ?? null,
      createdBy: caller.userId,
      actor: actorOf(caller, caller.userId),
      keyModels: [caller.models ?? null],
    };
  }
  if (named.userId === undefined && caller.via === 'api-key') {
    throw new DomainError('VALIDATION', 'A service key must name the billed user with userId');
  }
  const userId = named.userId ?? caller.userId;
  // A service key that names no key of the user's is itself the key the debit is made by (as in a
  // batch): its ledger entries name it, and its own budget, if it has one, counts the usage.
  const apiKeyId = named.apiKeyId ?? caller.apiKeyId ?? null;
  return {
    userId,
    orgId: named.orgId ?? null,
    apiKeyId,
    createdBy: caller.userId,
    actor: actorOf(caller, userId),
    keyModels: [caller.models ?? null],
  };
}
