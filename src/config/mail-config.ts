import type { EnvReader } from './env-reader.js';

/** Email notifications (docs/notifications.md). */
export interface MailConfig {
  /** SMTP_URL: smtp:// (STARTTLS when offered) or smtps://; null: emails are made and kept, not sent. */
  smtpUrl: string | null;
  /** MAIL_FROM: the From header (default `"<PLATFORM_NAME>" <no-reply@localhost>`). */
  from: string;
  /** PLATFORM_NAME: named in every email's subject and body. */
  platformName: string;
  /** EMAIL_WORKER_ENABLED: this instance makes and sends emails (every instance may). */
  workerEnabled: boolean;
  /** EMAIL_POLL_INTERVAL_MS: the fallback scan when no NOTIFY arrives. */
  pollIntervalMs: number;
}

/** SMTP_URL's password never appears in a message: only its scheme is judged. */
function smtpUrl(read: EnvReader): string | null {
  const value = read.raw('SMTP_URL');
  if (value === undefined) return null;
  const url = URL.canParse(value) ? new URL(value) : null;
  if (!url || !['smtp:', 'smtps:'].includes(url.protocol) || !url.hostname) {
    read.problems.push('SMTP_URL must be an smtp:// or smtps:// URL (smtp://user:password@host:587)');
    return null;
  }
  return value;
}

/** A header value: one line, so no CR or LF can add a header of its own. */
function oneLine(read: EnvReader, name: string, fallback: string): string {
  const value = read.string(name, fallback);
  if (/[\r\n]/.test(value)) {
    read.problems.push(`${name} must be one line`);
    return fallback;
  }
  return value;
}

export function mailConfig(read: EnvReader): MailConfig {
  const platformName = oneLine(read, 'PLATFORM_NAME', 'Accounting');
  const quoted = platformName.replace(/["\\]/g, '\\$&');
  return {
    smtpUrl: smtpUrl(read),
    from: oneLine(read, 'MAIL_FROM', `"${quoted}" <no-reply@localhost>`),
    platformName,
    workerEnabled: read.bool('EMAIL_WORKER_ENABLED', true),
    pollIntervalMs: read.int('EMAIL_POLL_INTERVAL_MS', 1000, 50, 60_000),
  };
}

/** PUBLIC_URL: the service's address as users reach it (links in emails); default http://localhost:<PORT>. */
export function publicUrl(read: EnvReader, port: number): string {
  const value = read.raw('PUBLIC_URL');
  if (value === undefined) return `http://localhost:${port === 0 ? 3001 : port}`;
  const url = URL.canParse(value) ? new URL(value) : null;
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.search || url.hash || url.username) {
    read.problems.push(
      `PUBLIC_URL must be an http:// or https:// address without query or credentials (got "${value}")`,
    );
    return `http://localhost:${port}`;
  }
  return value.replace(/\/+$/, '');
}

/** CREDITS_EXPIRING_NOTICE_HOURS: a comma list of lead times in hours (default 168,24), longest first. */
export function noticeHours(read: EnvReader): number[] {
  const value = read.raw('CREDITS_EXPIRING_NOTICE_HOURS') ?? '168,24';
  const parts = value.split(',').map((p) => p.trim());
  if (parts.length > 10 || !parts.every((p) => /^\d{1,6}$/.test(p) && Number(p) >= 1 && Number(p) <= 24 * 3650)) {
    read.problems.push(
      `CREDITS_EXPIRING_NOTICE_HOURS must be up to 10 comma-separated hours (1–87600), e.g. 168,24 (got "${value}")`,
    );
    return [168, 24];
  }
  return [...new Set(parts.map(Number))].sort((a, b) => b - a);
}

/**
 * RUNWAY_ALERT_DAYS: a comma list of days (default 7,3,1), longest first: a `credits.runway` alert
 * when the account's run-out day comes within one. Empty: no runway alerts.
 */
export function runwayAlertDays(read: EnvReader): number[] {
  const value = read.env.RUNWAY_ALERT_DAYS ?? '7,3,1';
  if (value.trim() === '') return [];
  const parts = value.split(',').map((p) => p.trim());
  if (parts.length > 10 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) >= 1 && Number(p) <= 365)) {
    read.problems.push(
      `RUNWAY_ALERT_DAYS must be up to 10 comma-separated whole days (1–365), e.g. 7,3,1 (got "${value}")`,
    );
    return [7, 3, 1];
  }
  return [...new Set(parts.map(Number))].sort((a, b) => b - a);
}
