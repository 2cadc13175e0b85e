import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';

import { type DuckDBAppender, type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

import { fromMinor } from '../credits/currencies.js';
import type { ExportDataset } from './export-datasets.js';

/** One file written: where, and how many rows. */
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

/**
 * Removes whatever an earlier attempt at this part left (whole files and temporaries), so writing it
 * again leaves exactly its own files.
 */
export async function removePartFiles(dir: string, dataset: string, exportId: string): Promise<void> {
  const root = path.join(dir, dataset);
  const days = await readdir(root).catch(() => [] as string[]);
  for (const day of days) {
    for (const suffix of ['.parquet', '.parquet.tmp']) {
      await rm(path.join(root, day, `${exportId}${suffix}`), { force: true });
    }
  }
}

/**
 * Collects one part's rows in an in-process DuckDB (typed as the dataset says; spilled to
 * `<dir>/.tmp` beyond its memory limit), then writes one Parquet file a day: under a temporary
 * name, synced, renamed once whole. DuckDB writes the Parquet (its `COPY … (FORMAT parquet)`), so the
 * types are Parquet's own: DECIMAL for money, INT32/INT64 for credits and counts, UTC timestamps.
 */
export class ParquetPartWriter {
  private instance: DuckDBInstance | null = null;
  private connection: DuckDBConnection | null = null;
  private appender: DuckDBAppender | null = null;
  private rows = 0;
  private readonly moneyAt: { index: number; currencyAt: number }[] = [];

  constructor(
    private readonly dir: string,
    private readonly dataset: ExportDataset,
    private readonly exportId: string,
  ) {
    let extra = 0;
    dataset.columns.forEach((column, index) => {
      if (column.money) this.moneyAt.push({ index, currencyAt: dataset.columns.length + extra++ });
    });
  }

  async open(): Promise<void> {
    const spill = path.join(this.dir, '.tmp');
    await mkdir(spill, { recursive: true });
    this.instance = await DuckDBInstance.create(':memory:', {
      memory_limit: '256MB',
      threads: '1',
      temp_directory: spill,
    });
    this.connection = await this.instance.connect();
    const columns = this.dataset.columns.map((c) => `${quote(c.name)} VARCHAR`);
    await this.connection.run(`CREATE TABLE part (${[...columns, '_day VARCHAR'].join(', ')})`);
    this.appender = await this.connection.createAppender('part');
  }

  /** Adds rows as the repository reads them: each column as text, then each money column's currency, then the day. */
  append(rows: (string | null)[][]): void {
    const appender = this.appender!;
    const width = this.dataset.columns.length;
    for (const row of rows) {
      const values = row.slice(0, width);
      for (const { index, currencyAt } of this.moneyAt) {
        const currency = row[currencyAt];
        if (values[index] !== null && currency) values[index] = fromMinor(values[index], currency);
      }
      for (const value of values) {
        if (value === null) appender.appendNull();
        else appender.appendVarchar(value);
      }
      appender.appendVarchar(row[row.length - 1] as string);
      appender.endRow();
    }
    this.rows += rows.length;
  }

  /** Writes the files; answers them, one a day that has rows. */
  async finish(): Promise<WrittenFile[]> {
    const connection = this.connection!;
    this.appender!.closeSync();
    this.appender = null;
    if (this.rows === 0) return [];
    const reader = await connection.runAndReadAll(
      `SELECT _day, count(*)::INTEGER AS n FROM part GROUP BY _day ORDER BY _day`,
    );
    const days = reader.getRowObjects() as { _day: string; n: number }[];
    const select = this.dataset.columns
      .map((c) => `CAST(${quote(c.name)} AS ${c.type === 'JSON' ? 'VARCHAR' : c.type}) AS ${quote(c.name)}`)
      .join(', ');
    const written: WrittenFile[] = [];
    for (const { _day: day, n } of days) {
      const file = partFile(this.dir, this.dataset.name, day, this.exportId);
      const temporary = `${file}.tmp`;
      await mkdir(path.dirname(file), { recursive: true });
      await connection.run(
        `COPY (SELECT ${select} FROM part WHERE _day = ${literal(day)} ORDER BY ${quote(this.dataset.orderBy)})
           TO ${literal(temporary)} (FORMAT parquet, COMPRESSION zstd)`,
      );
      await syncFile(temporary);
      await rename(temporary, file);
      await syncFile(path.dirname(file));
      written.push({ path: file, day, rows: n });
    }
    return written;
  }

  close(): void {
    try {
      this.appender?.closeSync();
    } catch {
      // already closed, or the instance is going anyway
    }
    this.connection?.closeSync();
    this.instance?.closeSync();
    this.appender = null;
    this.connection = null;
    this.instance = null;
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
