/**
 * Features and their grants (docs/features.md): the one definition of what a grant of each type looks
 * like, used by the routes that write grants (overrides, plans) and by the check that reads them.
 * Pure: no I/O.
 */
export const FEATURE_TYPES = ['boolean', 'metered', 'config'] as const;
export type FeatureType = (typeof FEATURE_TYPES)[number];

/** A metered grant's period: UTC calendar day, week (from Monday), month, or never resetting. */
export const GRANT_PERIODS = ['day', 'week', 'month', 'lifetime'] as const;
export type GrantPeriod = (typeof GRANT_PERIODS)[number];

export const FEATURE_KEY_PATTERN = /^[a-z0-9_.-]{1,64}$/;

/** The largest metered limit: the counters are bigint, the API's integers stay below 2^31. */
export const MAX_GRANT_LIMIT = 2_147_483_647;

/** A config grant's `value`, as JSON text, is at most this many bytes (UTF-8). */
export const MAX_CONFIG_BYTES = 1024;

export interface MeteredGrant {
  limit: number;
  period: GrantPeriod;
}

export interface ConfigGrant {
  value: unknown;
}

export type Grant = boolean | MeteredGrant | ConfigGrant;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The type a grant's shape belongs to, or a sentence saying what is wrong with it. */
export function grantShape(grant: unknown): { type: FeatureType } | { problem: string } {
  if (typeof grant === 'boolean') return { type: 'boolean' };
  if (!isPlainObject(grant)) return { problem: 'must be true, false, {limit, period} or {value}' };
  const keys = Object.keys(grant).sort().join(',');
  if (keys === 'limit,period') {
    const { limit, period } = grant;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0 || limit > MAX_GRANT_LIMIT)
      return { problem: `limit must be an integer from 0 to ${MAX_GRANT_LIMIT}` };
    if (!(GRANT_PERIODS as readonly unknown[]).includes(period))
      return { problem: `period must be one of ${GRANT_PERIODS.join(', ')}` };
    return { type: 'metered' };
  }
  if (keys === 'value') {
    if (grant.value === undefined) return { problem: 'value must be JSON' };
    if (Buffer.byteLength(JSON.stringify(grant.value), 'utf8') > MAX_CONFIG_BYTES)
      return { problem: `value must be at most ${MAX_CONFIG_BYTES} bytes of JSON` };
    return { type: 'config' };
  }
  return { problem: 'must be true, false, {limit, period} or {value}' };
}

/**
 * Why `grant` cannot be a grant of a feature of `type` (null: it can). A grant of another type's shape
 * is refused with the shape this type takes.
 */
export function grantProblem(type: FeatureType, grant: unknown): string | null {
  const shape = grantShape(grant);
  if ('problem' in shape) return shape.problem;
  if (shape.type === type) return null;
  return `a ${type} feature's grant must be ${EXPECTED[type]}`;
}

const EXPECTED: Record<FeatureType, string> = {
  boolean: 'true or false',
  metered: '{limit, period}',
  config: '{value}',
};
