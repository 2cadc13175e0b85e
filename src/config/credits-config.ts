import type { EnvReader } from './env-reader.js';
import { noticeHours, runwayAlertDays } from './mail-config.js';

/** The credit defaults and the alerts about an account's credits. */
export interface CreditsConfig {
  /** SPEND_RATE_LIMIT_PER_HOUR: every user's hourly spend limit unless set per user (null: none). */
  spendRatePerHour: number | null;
  /** LOW_BALANCE_THRESHOLDS: balance.low thresholds unless set per user. */
  lowBalanceThresholds: number[];
  /** CREDITS_EXPIRING_NOTICE_HOURS: the lead times (hours, longest first) of the credits.expiring notices. */
  expiringNoticeHours: number[];
  /** RUNWAY_ALERT_DAYS: the days (longest first) before the run-out day of the credits.runway alerts. */
  runwayAlertDays: number[];
  /** RUNWAY_ALERT_INTERVAL_SECONDS: how often the runway alerts are evaluated (default 3600, 60–86400). */
  runwayAlertIntervalSeconds: number;
}

export function creditsConfig(read: EnvReader): CreditsConfig {
  return {
    spendRatePerHour: read.raw('SPEND_RATE_LIMIT_PER_HOUR')
      ? read.int('SPEND_RATE_LIMIT_PER_HOUR', 0, 1, 2_147_483_647)
      : null,
    lowBalanceThresholds: thresholds(read),
    expiringNoticeHours: noticeHours(read),
    runwayAlertDays: runwayAlertDays(read),
    runwayAlertIntervalSeconds: read.int('RUNWAY_ALERT_INTERVAL_SECONDS', 3600, 60, 86_400),
  };
}

function thresholds(read: EnvReader): number[] {
  const value = read.env.LOW_BALANCE_THRESHOLDS ?? '100';
  if (value.trim() === '') return [];
  const parts = value.split(',').map((p) => p.trim());
  if (parts.length > 10 || !parts.every((p) => /^\d{1,10}$/.test(p) && Number(p) <= 2_147_483_647)) {
    read.problems.push(`LOW_BALANCE_THRESHOLDS must be up to 10 comma-separated credit amounts (got "${value}")`);
    return [100];
  }
  return [...new Set(parts.map(Number))].sort((a, b) => b - a);
}
