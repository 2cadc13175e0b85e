import { hash } from 'node:crypto';

/**
 * JSON with object keys sorted at every level, so `{a,b}` and `{b,a}` are the same request. Built by
 * appending, without the arrays of pieces a map and a join make: it runs on every keyed request.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      out += `${i === 0 ? '' : ','}${canonicalJson(item === undefined ? null : item)}`;
    }
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  let out = '{';
  for (const key of Object.keys(object).sort()) {
    const field = object[key];
    if (field === undefined) continue;
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonicalJson(field)}`;
  }
  return `${out}}`;
}

/**
 * SHA-256 (hex) of method, path and canonical body: what "the same request" means for a key. Both
 * digests here are one-shot `hash()` calls, the same digests: a Hash object made, fed and finished
 * for each cost a keyed record a few µs of Node CPU apiece (V8's profile of the record route).
 */
export function requestFingerprint(method: string, path: string, body: unknown): string {
  return hash('sha256', `${method.toUpperCase()}\n${path}\n${canonicalJson(body)}`, 'hex');
}

/**
 * A signed 64-bit advisory-lock id (as a decimal string) for one principal's key: the first 8 bytes of
 * a SHA-256, read from its hex digest (a digest as a Buffer cost three times as much).
 */
export function advisoryLockId(principal: string, key: string): string {
  const hex = hash('sha256', `idempotency\u0000${principal}\u0000${key}`, 'hex');
  return BigInt.asIntN(64, BigInt(`0x${hex.slice(0, 16)}`)).toString();
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
