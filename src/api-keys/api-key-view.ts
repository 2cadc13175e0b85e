/* How an API key is shown: the stored row, what the database says of it now, and its budget. */

import { ADMIN_ONLY_SCOPES, knownScopes } from '../auth/roles.js';
import type { CapRow } from '../engine/credit-accounts.service.js';
import type { StoredApiKey } from './api-keys.repository.js';
import type { ApiKeyResponseDto } from './dto/api-key.dto.js';
import type { ApiKey, KeyLimitPeriod } from './entities/api-key.entity.js';
import type { KeyBudget } from './key-budget.js';

/** A service key: one with a scope only admins may give (it meters any user). */
export function isServiceKey(key: ApiKey): boolean {
  return key.permissions.some((p) => (ADMIN_ONLY_SCOPES as string[]).includes(p));
}

export const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/** A key with its budget (the credits module's cap: null without one). */
export interface KeyView extends StoredApiKey {
  cap: CapRow | null;
}

export const budgetOf = (cap: CapRow | null): KeyBudget =>
  cap === null
    ? { creditLimit: null, limitPeriod: null }
    : { creditLimit: cap.limit, limitPeriod: cap.period as KeyLimitPeriod };

export function toDto({ key, active, cap, creatorIsAdmin }: KeyView): ApiKeyResponseDto {
  return {
    id: key.id,
    userId: key.userId,
    name: key.name,
    orgId: key.orgId,
    prefix: key.prefix,
    permissions: knownScopes(key.permissions),
    createdAt: key.createdAt.toISOString(),
    expiresAt: iso(key.expiresAt),
    lastUsed: iso(key.lastUsed),
    revokedAt: iso(key.revokedAt),
    isActive: active,
    portalSessionId: key.portalSessionId,
    ...budgetOf(cap),
    spentInPeriod: cap === null ? null : cap.spentInPeriod,
    periodResetsAt: cap === null ? null : iso(cap.resetsAt),
    models: key.models,
    ...(isServiceKey(key) ? { creatorIsAdmin } : {}),
  };
}
