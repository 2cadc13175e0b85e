/**
 * The export's part writer: a child process that turns one part's rows into Parquet files at the
 * machine's lowest CPU priority (nice 19), so an export takes only the cores metering leaves idle
 * (docs/exports.md "Beside metering"). It reads the rows with one COPY in a repeatable-read snapshot
 * of its own session into a CSV, then DuckDB turns the CSV into one Parquet file a day in `outDir`.
 * The parent names every statement and renames the files into place; this process writes only in its
 * own scratch folder and ends when its parent does.
 *
 * It imports nothing of the service, so Node runs it as it is: built (`.js`) or, under the tests,
 * from its source (`.ts`, Node's type stripping).
 */
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';

import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';

/** One part's work, as the parent sends it. */
export interface PartJob {
  connection: pg.ClientConfig;
  /** `COPY (…) TO STDOUT WITH (FORMAT csv)` of the part's rows. */
  copySql: string;
  csvFile: string;
  /** The most rows read a second (0: no limit): the COPY waits on its socket meanwhile. */
  rowsPerSecond: number;
  /** DuckDB: each day of the CSV and its rows (`day`, `n`). */
  daysSql: string;
  /** DuckDB: the CSV to one Parquet file a day under `outDir`. */
  convertSql: string;
  spillDir: string;
}

export type PartReply = { ok: true; rows: number; days: { day: string; n: number }[] } | { ok: false; error: string };

/** The lowest priority a process may give itself: the scheduler runs it only on otherwise idle cores. */
export const PART_WRITER_NICE = 19;

/**
 * Lowers every thread of this process to PART_WRITER_NICE (on Linux a thread's priority is its own, and
 * a thread starts with its creator's): the ones Node has started (its thread pool, which runs DuckDB's
 * work) and, through them, any started later. Elsewhere, the process's.
 */
function lowerPriority(): void {
  const threads = ids('/proc/self/task');
  for (const tid of threads.length > 0 ? threads : ['0']) {
    try {
      setPriority(Number(tid), PART_WRITER_NICE);
    } catch {
      // A thread that ended meanwhile.
    }
  }
}

/** The numeric entries of a /proc folder: processes or threads (none where there is no /proc). */
function ids(folder: string): string[] {
  try {
    return readdirSync(folder).filter((name) => /^[0-9]+$/.test(name));
  } catch {
    return [];
  }
}

/**
 * Lowers the priority of the PostgreSQL process serving this connection too, when it runs on this machine and
 * may be: the process whose title names this connection's local address and port (PostgreSQL titles a backend
 * `postgres: <user> <database> <host>(<port>) …`). A database elsewhere, or a server of another
 * user, leaves it as it is.
 */
function lowerSessionPriority(client: pg.Client): void {
  const socket = (client as unknown as { connection?: { stream?: { localAddress?: string; localPort?: number } } })
    .connection?.stream;
  if (!socket?.localAddress || !socket.localPort) return;
  const mark = ` ${socket.localAddress}(${socket.localPort}) `;
  for (const pid of ids('/proc')) {
    try {
      const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (title.startsWith('postgres: ') && title.includes(mark)) setPriority(Number(pid), PART_WRITER_NICE);
    } catch {
      // Gone, or not ours to change.
    }
  }
}

/**
 * Passes the CSV on at no more than `rowsPerSecond` lines a second (a line is a row, or part of one
 * whose text holds a line break: never more rows than that): held back, the COPY waits on its socket,
 * so the database's work of the export is spread out as well as this process's.
 */
export function paced(rowsPerSecond: number): Transform {
  const started = performance.now();
  let lines = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++;
      const wait = started + (lines * 1000) / rowsPerSecond - performance.now();
      if (wait > 1) setTimeout(() => done(null, chunk), wait);
      else done(null, chunk);
    },
  });
}

async function copyRows(job: PartJob): Promise<number> {
  const client = new pg.Client(job.connection);
  client.on('error', () => undefined);
  await client.connect();
  try {
    lowerSessionPriority(client);
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const stream = client.query(copyTo(job.copySql));
    const file = createWriteStream(job.csvFile);
    if (job.rowsPerSecond > 0) await pipeline(stream, paced(job.rowsPerSecond), file);
    else await pipeline(stream, file);
    await client.query('COMMIT');
    return Number(stream.rowCount ?? 0);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function convert(job: PartJob): Promise<{ day: string; n: number }[]> {
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: '256MB',
    threads: '1',
    temp_directory: job.spillDir,
  });
  const connection = await instance.connect();
  lowerPriority();
  try {
    const days = (await connection.runAndReadAll(job.daysSql)).getRowObjects() as { day: string; n: number }[];
    if (days.length > 0) await connection.run(job.convertSql);
    return days;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function write(job: PartJob): Promise<PartReply> {
  try {
    const rows = await copyRows(job);
    const days = rows === 0 ? [] : await convert(job);
    return { ok: true, rows, days };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

// Run as the part writer (forked with an IPC channel), not imported.
if (process.send && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  lowerPriority();
  // The parent gone (stopped, killed): nothing here may go on writing.
  process.on('disconnect', () => process.exit(1));
  process.once('message', (job: PartJob) => {
    void write(job).then((reply) => process.send?.(reply, () => process.exit(0)));
  });
}
