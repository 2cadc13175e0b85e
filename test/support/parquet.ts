import { existsSync } from 'node:fs';
import path from 'node:path';

import { DuckDBInstance } from '@duckdb/node-api';

/** The rows of every Parquet file of `dataset` under `dir`, read back with DuckDB, as plain JSON values. */
export async function readExported(dir: string, dataset: string, select = '*'): Promise<Record<string, unknown>[]> {
  if (!existsSync(path.join(dir, dataset))) return [];
  return duckQuery(dir, `SELECT ${select} FROM read_parquet('{dir}/${dataset}/date=*/*.parquet', filename = true)`);
}

/** One DuckDB query over the export directory (`{dir}` in the SQL is replaced by it). */
export async function duckQuery(dir: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql.replaceAll('{dir}', dir.replaceAll("'", "''")));
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
