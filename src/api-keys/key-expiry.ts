import { DomainError } from '../common/errors/domain-error.js';

/**
 * A key that must age: it expires at most `days` after `now` (a leaked or forgotten key stops by
 * itself). Without a requested expiry it gets the latest one; a later one is refused, naming the rule.
 * Service keys (SERVICE_KEY_MAX_DAYS) and keys created through the portal (PORTAL_KEY_MAX_DAYS).
 */
export function boundedExpiry(
  requested: Date | null,
  now: number,
  rule: { days: number; what: string; setting: string },
): Date {
  const latest = new Date(now + rule.days * 86_400_000);
  if (requested === null) return latest;
  if (requested.getTime() > latest.getTime()) {
    throw new DomainError(
      'VALIDATION',
      `${rule.what} expires at most ${rule.days} days after it is created ` +
        `(${rule.setting}): expiresAt must be on or before ${latest.toISOString()}`,
    );
  }
  return requested;
}
