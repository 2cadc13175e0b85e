import type { EnvReader } from './env-reader.js';

/**
 * Heavy reads (roll-forwards, liability pages, simulations; any module may wrap its work in
 * src/database/heavy-reads.ts): how many run at once per instance and for how long.
 */
export interface HeavyReadsConfig {
  /** HEAVY_READS_CONCURRENCY: heavy reads running at once per instance (their own pool's size); one more → 429. */
  concurrency: number;
  /** HEAVY_READ_TIMEOUT_SECONDS: a heavy read still running after this is cancelled in the database (503 TIMEOUT). */
  timeoutSeconds: number;
}

export function heavyReadsConfig(read: EnvReader): HeavyReadsConfig {
  return {
    concurrency: read.int('HEAVY_READS_CONCURRENCY', 2, 1, 64),
    timeoutSeconds: read.int('HEAVY_READ_TIMEOUT_SECONDS', 120, 1, 3600),
  };
}
