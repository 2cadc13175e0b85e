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
  /**
   * HEAVY_READS_PARALLEL_WORKERS: PostgreSQL parallel workers each heavy read's statement may use
   * (max_parallel_workers_per_gather on their connections). 0 keeps a heavy read to one core of the
   * database, so the ones running at once take at most HEAVY_READS_CONCURRENCY cores from metering.
   */
  parallelWorkers: number;
  /**
   * HEAVY_READS_NICE: the CPU priority (nice, 0–19) their PostgreSQL processes are lowered to where the
   * database runs on this machine and may be changed (0 leaves it): on a primary that shares its cores
   * with metering, a heavy read then takes only the CPU metering leaves idle.
   */
  nice: number;
}

export function heavyReadsConfig(read: EnvReader): HeavyReadsConfig {
  return {
    concurrency: read.int('HEAVY_READS_CONCURRENCY', 2, 1, 64),
    timeoutSeconds: read.int('HEAVY_READ_TIMEOUT_SECONDS', 120, 1, 3600),
    parallelWorkers: read.int('HEAVY_READS_PARALLEL_WORKERS', 0, 0, 64),
    nice: read.int('HEAVY_READS_NICE', 19, 0, 19),
  };
}
