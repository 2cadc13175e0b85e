import type { EnvReader } from './env-reader.js';

/** Late usage, corrections and re-rates (docs/usage.md "Late usage", "Corrections"; docs/pricing.md "Re-rating"). */
export interface CorrectionsConfig {
  /** CORRECTION_EXPIRY_DAYS: how long the credits a correction gives back for an expired or voided lot last. */
  expiryDays: number;
  /** LATE_USAGE_DAYS: how far back a write's occurredAt may lie. */
  lateUsageDays: number;
  /** CORRECTIONS_PER_RECORD: how many corrections one record may take (the next → 409 TOO_MANY_CORRECTIONS). */
  perRecord: number;
  /**
   * RERATE_LANES: how many lanes a new re-rate of every account cuts its records into, by paying
   * account, each run on its own connection at once (one PostgreSQL process each).
   */
  rerateLanes: number;
}

export function correctionsConfig(read: EnvReader): CorrectionsConfig {
  return {
    expiryDays: read.int('CORRECTION_EXPIRY_DAYS', 30, 1, 3650),
    lateUsageDays: read.int('LATE_USAGE_DAYS', 90, 0, 400),
    perRecord: read.int('CORRECTIONS_PER_RECORD', 100, 1, 10_000),
    rerateLanes: read.int('RERATE_LANES', 2, 1, 16),
  };
}
