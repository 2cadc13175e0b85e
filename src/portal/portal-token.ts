import { createHash, randomBytes } from 'node:crypto';

/**
 * A portal token: `acp_` and 32 random bytes (256 bits) in base64url. Recognisable, so the
 * authentication guard tells it from a JWT without parsing it, and secret scanners find leaked ones.
 */
export const PORTAL_TOKEN_PREFIX = 'acp_';
const PATTERN = /^acp_[A-Za-z0-9_-]{43}$/;

export function generatePortalToken(): string {
  return PORTAL_TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function looksLikePortalToken(value: string): boolean {
  return PATTERN.test(value);
}

/** The stored lookup value: a plain SHA-256 suffices for 256 random bits. */
export function hashPortalToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** The page a platform sends its user to: the token travels in the fragment, which no server logs. */
export function portalUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/portal#token=${token}`;
}
