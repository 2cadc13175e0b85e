import { chmod, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';

import type { ExportDataset } from './export-datasets.js';

/** One file written: where, its day, and how many rows. */
export interface WrittenFile {
  path: string;
  day: string;
  rows: number;
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** `<dir>/<dataset>/date=<day>/<exportId>.parquet`: where a part's rows of one day go. */
export function partFile(dir: string, dataset: string, day: string, exportId: string): string {
  return path.join(dir, dataset, `date=${day}`, `${exportId}.parquet`);
}

/** The part's scratch folder: its CSV and DuckDB's output before each file is renamed into place. */
export function partScratch(dir: string, exportId: string): string {
  return path.join(dir, '.tmp', exportId);
}

/**
 * Removes whatever an earlier attempt at this part left (whole files, temporaries, its scratch), so
 * writing it again leaves exactly its own files.
 */
export async function removePartFiles(dir: string, dataset: string, exportId: string): Promise<void> {
  await rm(partScratch(dir, exportId), { recursive: true, force: true });
  const root = path.join(dir, dataset);
  const days = await readdir(root).catch(() => [] as string[]);
  for (const day of days) {
    for (const suffix of ['.parquet', '.parquet.tmp']) {
      await rm(path.join(root, day, `${exportId}${suffix}`), { force: true });
    }
  }
}

/** What DuckDB runs to turn a part's CSV into its Parquet files: its days with their rows, then the files. */
export interface PartConversion {
  daysSql: string;
  convertSql: string;
}

/**
 * Turns one part's rows (the CSV the database wrote: each column as text, then the row's UTC day) into
 * one Parquet file a day under `outDir`: DuckDB reads the CSV and writes the Parquet in one streaming
 * COPY partitioned by day (its memory bounded, the rows in the CSV's order), typed as the dataset says:
 * DECIMAL for money, INTEGER/BIGINT for credits and counts, UTC timestamps.
 */
export function partConversion(dataset: ExportDataset, csvFile: string, outDir: string): PartConversion {
  const names = [...dataset.columns.map((c) => c.name), '_day'];
  const columns = `{${names.map((n) => `${literal(n)}: 'VARCHAR'`).join(', ')}}`;
  const source = `read_csv(${literal(csvFile)}, header = false, columns = ${columns}, quote = '"', escape = '"',
                  allow_quoted_nulls = false, auto_detect = false)`;
  const select = dataset.columns
    .map((c) => `CAST(${quote(c.name)} AS ${c.type === 'JSON' ? 'VARCHAR' : c.type}) AS ${quote(c.name)}`)
    .join(', ');
  return {
    daysSql: `SELECT _day AS day, count(*)::INTEGER AS n FROM ${source} GROUP BY _day ORDER BY _day`,
    convertSql: `COPY (SELECT ${select}, _day AS date FROM ${source})
         TO ${literal(outDir)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (date), FILENAME_PATTERN 'part_{i}')`,
  };
}

/**
 * Moves the files DuckDB wrote under `outDir` (one a day of `days`) into place: each given `mode`
 * (EXPORT_FILE_MODE: the rows are people's usage and money, never for every user of the machine) and
 * synced, then renamed to `<dir>/<dataset>/date=<day>/<exportId>.parquet`, so it appears with its mode.
 */
export async function placePartFiles(
  dir: string,
  dataset: ExportDataset,
  exportId: string,
  outDir: string,
  days: { day: string; n: number }[],
  mode: number,
): Promise<WrittenFile[]> {
  const written: WrittenFile[] = [];
  for (const { day, n } of days) {
    const produced = (await readdir(path.join(outDir, `date=${day}`))).filter((f) => f.endsWith('.parquet'));
    if (produced.length !== 1) throw new Error(`expected one Parquet file for ${day}, DuckDB wrote ${produced.length}`);
    const file = partFile(dir, dataset.name, day, exportId);
    const source = path.join(outDir, `date=${day}`, produced[0]);
    await chmod(source, mode);
    await syncFile(source);
    await mkdir(path.dirname(file), { recursive: true });
    await rename(source, file);
    await syncFile(path.dirname(file));
    written.push({ path: file, day, rows: n });
  }
  return written;
}

/** fsync: a file renamed into place is whole on disk, and so is the directory entry naming it. */
async function syncFile(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
