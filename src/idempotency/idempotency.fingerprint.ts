import { hash } from 'node:crypto';

/** JSON with object keys sorted at every level, so `{a,b}` and `{b,a}` are the same request. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.keys(value as Record<string, unknown>)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

/**
 * SHA-256 (hex) of method, path and canonical body: what "the same request" means for a key. Both
 * digests here are one-shot `hash()` calls, the same digests: a Hash object made, fed and finished
 * for each cost a keyed record a few µs of Node CPU apiece (V8's profile of the record route).
 */
export function requestFingerprint(method: string, path: string, body: unknown): string {
  return hash('sha256', `${method.toUpperCase()}\n${path}\n${canonicalJson(body)}`, 'hex');
}

/** A signed 64-bit advisory-lock id (as a decimal string) for one principal's key. */
export function advisoryLockId(principal: string, key: string): string {
  return hash('sha256', `idempotency\u0000${principal}\u0000${key}`, 'buffer').readBigInt64BE(0).toString();
}

/** The stored form of a response: plain JSON, with redacted top-level fields replaced by null. */
export function storedBody(result: unknown, redact: readonly string[]): unknown {
  if (result === undefined) return null;
  const json = JSON.parse(JSON.stringify(result)) as unknown;
  if (redact.length === 0 || json === null || typeof json !== 'object' || Array.isArray(json)) return json;
  const copy = { ...(json as Record<string, unknown>) };
  for (const field of redact) if (field in copy) copy[field] = null;
  return copy;
}
