import type { EnvReader } from './env-reader.js';

export interface PortalConfig {
  /**
   * PORTAL_ALLOWED_ORIGINS: origins (`https://app.example`) whose pages may load /portal/embed.js, call
   * the API from the browser (CORS) and frame the portal (`frame-ancestors`). Empty: none but this one.
   */
  allowedOrigins: string[];
  /**
   * PORTAL_BUY_URL: the app's own checkout page (http or https). Set, the portal's Purchases tab links
   * each active package to it with `userId` (or `orgId`) and `packageId` added; absent, no such links.
   */
  buyUrl: string | null;
  /**
   * PORTAL_KEY_MAX_DAYS: an API key created with a portal token expires at most this many days after
   * it is created (default 90, 1–3650).
   */
  keyMaxDays: number;
}

/** An origin as browsers send it: scheme, host and port only, no path, no trailing slash. */
function asOrigin(value: string): string | null {
  try {
    const url = new URL(value);
    if (!['http:', 'https:'].includes(url.protocol) || url.origin !== value) return null;
    return url.origin;
  } catch {
    return null;
  }
}

export function portalConfig(read: EnvReader): PortalConfig {
  return {
    allowedOrigins: allowedOrigins(read),
    buyUrl: buyUrl(read),
    keyMaxDays: read.int('PORTAL_KEY_MAX_DAYS', 90, 1, 3650),
  };
}

function buyUrl(read: EnvReader): string | null {
  const value = read.raw('PORTAL_BUY_URL');
  if (value === undefined || value.trim() === '') return null;
  try {
    const url = new URL(value.trim());
    if (['http:', 'https:'].includes(url.protocol)) return url.href;
  } catch {
    // reported below, as every other malformed setting
  }
  read.problems.push(`PORTAL_BUY_URL must be an http(s) URL like https://app.example/buy (got "${value}")`);
  return null;
}

function allowedOrigins(read: EnvReader): string[] {
  const value = read.raw('PORTAL_ALLOWED_ORIGINS');
  if (value === undefined) return [];
  const entries = value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const bad = entries.filter((e) => asOrigin(e) === null);
  if (bad.length > 0) {
    read.problems.push(
      `PORTAL_ALLOWED_ORIGINS must be a comma list of origins like https://app.example (got "${bad.join('", "')}")`,
    );
    return [];
  }
  return entries;
}
