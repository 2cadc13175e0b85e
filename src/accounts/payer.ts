import type { ResolvedAccount } from '../auth/account-access.js';
import type { BilledPartyDto } from '../auth/billed-party.dto.js';
import { isServicePrincipal } from '../auth/metering.js';
import type { AuthUser } from '../auth/roles.js';
import { DomainError, NotAMemberError } from '../common/errors/domain-error.js';
import { billedUser, chargedAccount, payingOrgOf } from './account-ref.js';

/**
 * Who pays for a metering write (docs/trust-model.md "Who pays, decided in one place"): the account
 * (`account`), the billed user, the key it goes through and who wrote it. Every metering route (a
 * record, records that arrive together, a batch event, a session's initialize, finalize and abort)
 * takes it from here.
 */
export interface Payer {
  /**
   * The account that pays, with the member who spends it: a user's own (the billed user its owner),
   * or an organisation's used by its member, the billed user (the engine checks that they are an
   * active member). billedUser() and payingOrgOf() read the two.
   */
  account: Pick<ResolvedAccount, 'kind' | 'ownerId' | 'memberId'>;
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
  /**
   * The id of the account that pays (`account`), resolved with the payer at the edge (null: it has
   * none): the take charges it, and the record and the session carry it.
   */
  accountId: string | null;
}

/** The payer as decided from the credential and the body, before its account is read. */
export type PayerParty = Omit<Payer, 'accountId'>;

/** Who acted (docs/audit.md "Who acted, beyond the audit log"): the key that wrote a record, and its writer when not the billed user. */
export interface Actor {
  apiKeyId: string | null;
  /** The JWT's user or the key's owner; null when that is the billed user. */
  actorId: string | null;
}

/** What the payer needs to know of a key a service principal names (`apiKeyId`), as the keys' module reads it. */
export interface NamedKey {
  /**
   * The account the key charges: its owner's own, or for a key of a membership the organisation's,
   * with its owner as the member who spends (chargedAccount()).
   */
  charges: Pick<ResolvedAccount, 'kind' | 'ownerId' | 'memberId'>;
  /** Neither revoked nor expired. A key of a membership whose owner left is active: the charge answers NOT_A_MEMBER. */
  active: boolean;
  models: string[] | null;
}

/** The actor of a write by `caller` billed to `userId`. */
export function actorOf(caller: AuthUser, userId: string): Actor {
  return { apiKeyId: caller.apiKeyId ?? null, actorId: caller.userId === userId ? null : caller.userId };
}

/**
 * The organisation a write charges: the one named, else the one the key of a membership charges. A
 * key of one organisation naming another → NOT_A_MEMBER (the key's owner acts only for its org).
 */
function payingOrg(named: string | undefined, keyOrg: string | null | undefined, userId: string): string | null {
  if (keyOrg && named !== undefined && named !== keyOrg) throw new NotAMemberError(named, userId);
  return named ?? keyOrg ?? null;
}

/**
 * The payer of a write that names no key (a batch event names none), from what its body names: the
 * billed user and the key (`userId`, `apiKeyId`, as every metering body declares them, BilledPartyDto)
 * and the organisation that pays (`orgId`, the body's `orgId`: absent from those that open no charge).
 * A service principal bills `userId` (a service key must name it; an admin's token without it meters
 * the admin's own account) through its own key; anyone else bills their own account through the key
 * they called with and may name neither a user nor a key.
 */
export function payerOf(
  caller: AuthUser,
  named: Pick<BilledPartyDto, 'userId' | 'apiKeyId'>,
  orgId: string | undefined,
): PayerParty {
  if (!isServicePrincipal(caller)) {
    if (named.userId !== undefined || named.apiKeyId !== undefined) {
      throw new DomainError(
        'VALIDATION',
        'userId and apiKeyId may be given only by a service principal (an admin token, or an API key with usage:ingest)',
      );
    }
    return {
      account: chargedAccount(payingOrg(orgId, caller.orgId, caller.userId), caller.userId),
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
  return {
    account: chargedAccount(orgId ?? null, userId),
    apiKeyId: named.apiKeyId ?? caller.apiKeyId ?? null,
    createdBy: caller.userId,
    actor: actorOf(caller, userId),
    keyModels: [caller.models ?? null],
  };
}

/**
 * The payer through the billed user's key that a service principal named (its `apiKeyId`, read as
 * `key`): it counts against that key's budget as if the key had called, and a key of a membership
 * charges its organisation (another org named, `orgId` → NOT_A_MEMBER). Another user's key and an
 * unknown one answer alike (the answer tells nobody which ids exist); a revoked or expired one is
 * refused too.
 */
export function throughNamedKey(party: PayerParty, orgId: string | undefined, key: NamedKey | null): PayerParty {
  const userId = billedUser(party.account);
  if (!key || billedUser(key.charges) !== userId) {
    throw new DomainError('API_KEY_MISMATCH', `apiKeyId does not name an API key of user ${userId}`);
  }
  if (!key.active) throw new DomainError('API_KEY_MISMATCH', 'apiKeyId names a revoked or expired API key');
  const paying = payingOrg(orgId, payingOrgOf(key.charges), userId);
  return { ...party, account: chargedAccount(paying, userId), keyModels: [...party.keyModels, key.models] };
}
