import type { EnvReader } from './env-reader.js';

export interface ParquetExportConfig {
  /** EXPORT_DIR: where the Parquet exports are written (null: no exports). */
  dir: string | null;
  /** EXPORT_INTERVAL_MINUTES: how often the scheduled export runs (default 60). */
  intervalMinutes: number;
  /** EXPORT_ROWS_PER_SECOND: the most rows a run reads a second (default 25,000; 0: as fast as it can). */
  rowsPerSecond: number;
  /**
   * EXPORT_FILE_MODE: the permission bits of each file written, `0600` (default: its owner only) or
   * `0640` (its group may read, for a collector running as another user of the group).
   */
  fileMode: number;
}

/** The modes EXPORT_FILE_MODE may name: never readable by every user of the machine. */
export const EXPORT_FILE_MODES = ['0600', '0640'] as const;

export function parquetExportConfig(read: EnvReader): ParquetExportConfig {
  const dir = read.raw('EXPORT_DIR')?.trim();
  return {
    dir: dir ? dir : null,
    intervalMinutes: read.int('EXPORT_INTERVAL_MINUTES', 60, 1, 10_080),
    rowsPerSecond: read.int('EXPORT_ROWS_PER_SECOND', 25_000, 0, 100_000_000),
    fileMode: parseInt(read.oneOf('EXPORT_FILE_MODE', EXPORT_FILE_MODES, '0600'), 8),
  };
}
