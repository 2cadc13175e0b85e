import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { advisoryLockId, canonicalJson, requestFingerprint, storedBody } from './idempotency.fingerprint.js';

describe('idempotency fingerprint', () => {
  it('ignores key order at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}',
    );
    expect(requestFingerprint('POST', '/api/x', { a: 1, b: 2 })).toBe(
      requestFingerprint('post', '/api/x', { b: 2, a: 1 }),
    );
  });

  it('differs for another body, path or method', () => {
    const base = requestFingerprint('POST', '/api/x', { a: 1 });
    expect(requestFingerprint('POST', '/api/x', { a: 2 })).not.toBe(base);
    expect(requestFingerprint('POST', '/api/y', { a: 1 })).not.toBe(base);
    expect(requestFingerprint('PUT', '/api/x', { a: 1 })).not.toBe(base);
    expect(requestFingerprint('POST', '/api/x', { a: '1' })).not.toBe(base);
  });

  it('treats a missing body like an empty one only when both are absent', () => {
    expect(requestFingerprint('POST', '/p', undefined)).toBe(requestFingerprint('POST', '/p', null));
    expect(requestFingerprint('POST', '/p', {})).not.toBe(requestFingerprint('POST', '/p', undefined));
  });

  it('derives a stable signed 64-bit lock id per principal and key', () => {
    const id = advisoryLockId('user:a', 'k1');
    expect(id).toBe(advisoryLockId('user:a', 'k1'));
    expect(id).not.toBe(advisoryLockId('user:b', 'k1'));
    const n = BigInt(id);
    expect(n >= -(2n ** 63n) && n < 2n ** 63n).toBe(true);
  });

  it('keeps the digests of keys stored before: SHA-256 of the same strings, as a Hash object makes them', () => {
    // A key stored by an earlier build is found again only if its fingerprint and lock id are the same.
    const body = { body: { service: 'chat', credits: 3, metadata: { b: 1, a: [2, null] } }, query: {} };
    const sha = (text: string) => createHash('sha256').update(text).digest();
    expect(requestFingerprint('post', '/api/usage/record', body)).toBe(
      sha(`POST\n/api/usage/record\n${canonicalJson(body)}`).toString('hex'),
    );
    expect(advisoryLockId('user:u-1', 'retry-7')).toBe(
      sha('idempotency\u0000user:u-1\u0000retry-7').readBigInt64BE(0).toString(),
    );
    // Read from the hex digest: the same signed value for every key, negative ones included.
    const ids = Array.from({ length: 1000 }, (_, i) => [`user:u-${i % 7}`, `key-${i}`] as const);
    for (const [principal, key] of ids) {
      expect(advisoryLockId(principal, key)).toBe(
        sha(`idempotency\u0000${principal}\u0000${key}`).readBigInt64BE(0).toString(),
      );
    }
    expect(ids.some(([principal, key]) => advisoryLockId(principal, key).startsWith('-'))).toBe(true);
  });

  it('leaves undefined out of objects and writes it as null in arrays, as JSON.stringify does', () => {
    const value = { b: [1, undefined, { d: undefined, c: 'x' }], a: undefined, e: {}, f: [] };
    expect(canonicalJson(value)).toBe('{"b":[1,null,{"c":"x"}],"e":{},"f":[]}');
    expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalJson(['s', true, null, 2.5])).toBe('["s",true,null,2.5]');
  });

  it('replaces redacted fields by null and keeps the rest', () => {
    expect(storedBody({ id: 'k', key: 'secret', nested: { key: 'stays' } }, ['key'])).toEqual({
      id: 'k',
      key: null,
      nested: { key: 'stays' },
    });
    expect(storedBody(undefined, ['key'])).toBeNull();
    expect(storedBody([{ key: 1 }], ['key'])).toEqual([{ key: 1 }]);
  });
});
