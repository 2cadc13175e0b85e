import { DomainError } from '../common/errors/domain-error.js';
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
