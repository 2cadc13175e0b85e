import { UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';

import { isServicePrincipal } from '../auth/metering.js';
import type { AuthUser } from '../auth/roles.js';
import type { CredentialAttempts } from '../throttling/credential-attempts.js';
import { GatewayError } from './provider-errors.js';

/**
 * A presented key's lookup under the same per-address guessing throttle as `/api` (CredentialAttempts,
 * THROTTLE_AUTH_FAILURE_LIMIT per THROTTLE_TTL_SECONDS, one window for both): a wrong key counts, and
 * while the address is blocked every key is a 429 AUTH_THROTTLED in the provider's shape, the right
 * one too (a guesser learns nothing from the one answer that is not a 429), but a service key, as on
 * `/api` (AuthenticationGuard).
 */
export async function throttledLookup<T>(
  attempts: CredentialAttempts,
  req: Request,
  lookup: () => Promise<T>,
  callerOf: (found: T) => AuthUser,
): Promise<T> {
  const blockedFor = await attempts.blockedFor(req);
  let found: T;
  try {
    found = await lookup();
  } catch (error) {
    if (error instanceof UnauthorizedException) await attempts.failed(req);
    if (blockedFor > 0) throw throttled(blockedFor);
    throw error;
  }
  if (blockedFor > 0 && !isServicePrincipal(callerOf(found))) throw throttled(blockedFor);
  return found;
}

function throttled(seconds: number): GatewayError {
  return new GatewayError(429, 'AUTH_THROTTLED', 'Too many failed authentication attempts', {
    'Retry-After': String(seconds),
  });
}
