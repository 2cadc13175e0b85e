import type { EnvReader } from './env-reader.js';

export interface PortalConfig {
  /**
   * PORTAL_ALLOWED_ORIGINS: origins (`https://app.example`) whose pages may load /portal/embed.js, call
   * the API from the browser (CORS) and frame the portal (`frame-ancestors`). Empty: none but this one.
   */
  allowedOrigins: string[];
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
  const value = read.raw('PORTAL_ALLOWED_ORIGINS');
  if (value === undefined) return { allowedOrigins: [] };
  const entries = value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const bad = entries.filter((e) => asOrigin(e) === null);
  if (bad.length > 0) {
    read.problems.push(
      `PORTAL_ALLOWED_ORIGINS must be a comma list of origins like https://app.example (got "${bad.join('", "')}")`,
    );
    return { allowedOrigins: [] };
  }
  return { allowedOrigins: entries };
}
