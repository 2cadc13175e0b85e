import type { EnvReader } from './env-reader.js';

/** Late usage and corrections (docs/usage.md "Late usage", "Corrections"). */
export interface CorrectionsConfig {
  /** CORRECTION_EXPIRY_DAYS: how long the credits a correction gives back for an expired or voided lot last. */
  expiryDays: number;
  /** LATE_USAGE_DAYS: how far back a write's occurredAt may lie. */
  lateUsageDays: number;
}

export function correctionsConfig(read: EnvReader): CorrectionsConfig {
  return {
    expiryDays: read.int('CORRECTION_EXPIRY_DAYS', 30, 1, 3650),
    lateUsageDays: read.int('LATE_USAGE_DAYS', 90, 0, 400),
  };
}
