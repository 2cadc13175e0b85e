import type { EnvReader } from './env-reader.js';

export interface ParquetExportConfig {
  /** EXPORT_DIR: where the Parquet exports are written (null: no exports). */
  dir: string | null;
  /** EXPORT_INTERVAL_MINUTES: how often the scheduled export runs (default 60). */
  intervalMinutes: number;
}

export function parquetExportConfig(read: EnvReader): ParquetExportConfig {
  const dir = read.raw('EXPORT_DIR')?.trim();
  return {
    dir: dir ? dir : null,
    intervalMinutes: read.int('EXPORT_INTERVAL_MINUTES', 60, 1, 10_080),
  };
}
