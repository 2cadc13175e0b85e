/** Credits are integers: grouped digits, never rounded or summed in floating point here. */
export function credits(n: number | null | undefined): string {
  if (n == null) return '—';
  return n.toLocaleString('en-US', { maximumFractionDigits: 0 });
}

/** An ISO instant as UTC, to the second: `2026-11-23 12:00:00 UTC`. */
export function utc(iso: string | null | undefined): string {
  if (!iso) return '—';
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/** The UTC day of an instant (`YYYY-MM-DD`). */
export function utcDay(iso: string): string {
  return iso.slice(0, 10);
}

/** Today's UTC date minus `days`. */
export function utcDaysAgo(days: number, now = new Date()): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - days));
  return d.toISOString().slice(0, 10);
}

/** A message for an API error body (`{message}` string or array) or anything thrown. */
export function errorMessage(error: unknown): string {
  if (error && typeof error === 'object' && 'message' in error) {
    const message = (error as { message: unknown }).message;
    if (Array.isArray(message)) return message.join('; ');
    if (typeof message === 'string')
      return message + shortBy(error as { requiredCredits?: unknown; availableCredits?: unknown });
  }
  return String(error);
}

/** A 402's figures (`requiredCredits`, `availableCredits`), when the body has them. */
function shortBy(body: { requiredCredits?: unknown; availableCredits?: unknown }): string {
  const { requiredCredits: required, availableCredits: available } = body;
  if (typeof required !== 'number' || typeof available !== 'number') return '';
  return `: ${credits(required)} needed, ${credits(available)} available`;
}
