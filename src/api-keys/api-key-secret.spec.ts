import { describe, expect, it } from 'vitest';

import {
  displayPrefix,
  generateApiKey,
  hashApiKey,
  KEY_PREFIX,
  looksLikeApiKey,
  secretsEqual,
} from './api-key-secret.js';

describe('api key secrets', () => {
  it('generates prefixed keys with 32 random bytes', () => {
    const key = generateApiKey();
    expect(key.startsWith(KEY_PREFIX)).toBe(true);
    expect(Buffer.from(key.slice(KEY_PREFIX.length), 'base64url')).toHaveLength(32);
    expect(looksLikeApiKey(key)).toBe(true);
    expect(generateApiKey()).not.toBe(key);
  });

  it('rejects malformed keys before any lookup', () => {
    const key = generateApiKey();
    expect(looksLikeApiKey(key.slice(0, -1))).toBe(false);
    expect(looksLikeApiKey(`${key}x`)).toBe(false);
    expect(looksLikeApiKey(key.replace(KEY_PREFIX, 'acs_test_'))).toBe(false);
    expect(looksLikeApiKey(`${key.slice(0, -1)}=`)).toBe(false);
    expect(looksLikeApiKey('')).toBe(false);
  });

  it('hashes to a 32-byte SHA-256 digest and shows a short display prefix', () => {
    const key = generateApiKey();
    expect(hashApiKey(key)).toHaveLength(32);
    expect(hashApiKey(key).equals(hashApiKey(key))).toBe(true);
    expect(displayPrefix(key)).toBe(key.slice(0, 16));
    expect(displayPrefix(key).length).toBeLessThan(key.length / 2);
  });

  it('compares secrets of different lengths without throwing', () => {
    expect(secretsEqual('internal', 'internal')).toBe(true);
    expect(secretsEqual('internal', 'internal-longer')).toBe(false);
    expect(secretsEqual('', 'x')).toBe(false);
  });
});
