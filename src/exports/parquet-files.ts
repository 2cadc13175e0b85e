import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';

import { DuckDBInstance } from '@duckdb/node-api';

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

/**
 * Turns one part's rows (the CSV the database wrote: each column as text, then the row's UTC day) into
 * one Parquet file a day. DuckDB reads the CSV and writes the Parquet in one streaming COPY partitioned
 * by day (its memory bounded, the rows in the CSV's order), typed as the dataset says: DECIMAL for
 * money, INTEGER/BIGINT for credits and counts, UTC timestamps. Each file is written in the part's
 * scratch folder, synced, then renamed into `<dataset>/date=<day>/<exportId>.parquet`.
 */
export async function writePartFiles(
  dir: string,
  dataset: ExportDataset,
  exportId: string,
  csvFile: string,
): Promise<WrittenFile[]> {
  const scratch = partScratch(dir, exportId);
  const out = path.join(scratch, 'out');
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: '256MB',
    threads: '1',
    temp_directory: path.join(scratch, 'spill'),
  });
  const connection = await instance.connect();
  try {
    const names = [...dataset.columns.map((c) => c.name), '_day'];
    const columns = `{${names.map((n) => `${literal(n)}: 'VARCHAR'`).join(', ')}}`;
    const source = `read_csv(${literal(csvFile)}, header = false, columns = ${columns}, quote = '"', escape = '"',
                    allow_quoted_nulls = false, auto_detect = false)`;
    const select = dataset.columns
      .map((c) => `CAST(${quote(c.name)} AS ${c.type === 'JSON' ? 'VARCHAR' : c.type}) AS ${quote(c.name)}`)
      .join(', ');
    const counts = await connection.runAndReadAll(
      `SELECT _day AS day, count(*)::INTEGER AS n FROM ${source} GROUP BY _day ORDER BY _day`,
    );
    const days = counts.getRowObjects() as { day: string; n: number }[];
    if (days.length === 0) return [];
    await connection.run(
      `COPY (SELECT ${select}, _day AS date FROM ${source})
         TO ${literal(out)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (date), FILENAME_PATTERN 'part_{i}')`,
    );
    const written: WrittenFile[] = [];
    for (const { day, n } of days) {
      const produced = (await readdir(path.join(out, `date=${day}`))).filter((f) => f.endsWith('.parquet'));
      if (produced.length !== 1)
        throw new Error(`expected one Parquet file for ${day}, DuckDB wrote ${produced.length}`);
      const file = partFile(dir, dataset.name, day, exportId);
      const source = path.join(out, `date=${day}`, produced[0]);
      await syncFile(source);
      await mkdir(path.dirname(file), { recursive: true });
      await rename(source, file);
      await syncFile(path.dirname(file));
      written.push({ path: file, day, rows: n });
    }
    return written;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
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
