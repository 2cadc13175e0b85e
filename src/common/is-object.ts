/** A JSON object (not null, not an array): what a provider body, a usage object or a price table must be. */
export const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
