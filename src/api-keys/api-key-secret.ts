import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Recognisable in logs, configs and secret scanners; the rest is 32 random bytes (256 bits). */
export const KEY_PREFIX = 'acs_live_';
const RANDOM_BYTES = 32;
/** base64url of 32 bytes is 43 characters without padding. */
const KEY_PATTERN = /^acs_live_[A-Za-z0-9_-]{43}$/;
/** What lists show to tell keys apart: the fixed prefix plus 7 random characters (42 of 256 bits). */
export const DISPLAY_PREFIX_LENGTH = 16;

export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(RANDOM_BYTES).toString('base64url');
}

/** Cheap shape check so malformed guesses never reach the database. */
export function looksLikeApiKey(value: string): boolean {
  return KEY_PATTERN.test(value);
}

/** The stored lookup value. A plain SHA-256 is enough: the input is 256 random bits, not a password. */
export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

export function displayPrefix(key: string): string {
  return key.slice(0, DISPLAY_PREFIX_LENGTH);
}

/**
 * Constant-time comparison of two secrets of any length: both are hashed first, so the comparison
 * runs on equal-length digests and leaks neither content nor length.
 */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
