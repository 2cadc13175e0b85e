import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type pg from 'pg';
import type { DataSource, EntityManager } from 'typeorm';

import { moneySql } from '../common/money/currencies.js';
import type { ExportPartStatus } from './entities/export-part.entity.js';
import type { ExportRunStatus, ExportTrigger } from './entities/export-run.entity.js';
import type { ExportColumn, ExportDataset } from './export-datasets.js';

/** Only one instance exports at a time: this session-level advisory lock is its lease. */
const EXPORT_LOCK = `hashtext('accounting-service:parquet-exports')`;

export interface ExportRunRow {
  id: string;
  status: ExportRunStatus;
  trigger: ExportTrigger;
  created_by: string | null;
  started_at: Date;
  finished_at: Date | null;
  last_error: string | null;
}

export interface ExportPartRow {
  export_id: string;
  run_id: string;
  dataset: string;
  from_xid: string;
  to_xid: string;
  status: ExportPartStatus;
  rows: string;
  files: number;
}

/** Which rows a part holds, and the files' name. */
export type PartRange = Pick<ExportPartRow, 'export_id' | 'run_id' | 'dataset' | 'from_xid' | 'to_xid'>;

/** `to_char` of a timestamptz as DuckDB reads a TIMESTAMPTZ, at microseconds, in UTC. */
const utcText = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'`;

function columnSql(column: ExportColumn): string {
  if (column.money) return `${moneySql(column.money.minor, column.money.currency)}::text`;
  const source = column.sql ?? `"${column.name}"`;
  return column.type === 'TIMESTAMPTZ' ? utcText(source) : `${source}::text`;
}

/**
 * The exports' statements. The lease, the horizon and the rows are read on the run's own connection
 * (a session of its own: the advisory lock lives as long as it); runs and parts through the pool.
 */
@Injectable()
export class ExportsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async tryLease(client: pg.Client): Promise<boolean> {
    const { rows } = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${EXPORT_LOCK}) AS ok`);
    return rows[0].ok;
  }

  /**
   * The horizon: every transaction of this database below it has ended, and none that starts later can
   * get an id below it. The oldest transaction still running in this database (its sessions' own
   * transaction ids among the snapshot's running ones, and its prepared transactions), else the next id
   * to be given. Only this database's transactions can insert its rows, so a long transaction of
   * another database on the same server holds nothing back. When a session of this database is one
   * this role may not see (another role's), the server-wide oldest running transaction is used.
   */
  async horizon(client: pg.Client): Promise<string> {
    const { rows } = await client.query<{ xid: string }>(
      `WITH s AS (SELECT pg_current_snapshot() AS snap),
            here AS (SELECT backend_xid, query FROM pg_stat_activity
                      WHERE datid = (SELECT oid FROM pg_database WHERE datname = current_database())),
            mine AS (SELECT backend_xid::text::bigint AS xid FROM here WHERE backend_xid IS NOT NULL
                     UNION ALL
                     SELECT transaction::text::bigint FROM pg_prepared_xacts WHERE database = current_database())
       SELECT CASE
                WHEN EXISTS (SELECT 1 FROM here WHERE query = '<insufficient privilege>')
                  THEN pg_snapshot_xmin(s.snap)::text
                ELSE coalesce(
                  (SELECT min(x::text::bigint) FROM pg_snapshot_xip(s.snap) x
                    WHERE x::text::bigint % 4294967296 IN (SELECT xid FROM mine)),
                  pg_snapshot_xmax(s.snap)::text::bigint)::text
              END AS xid
         FROM s`,
    );
    return rows[0].xid;
  }

  /**
   * The COPY that writes the dataset's rows of [fromXid, toXid) as CSV (each column as text, in the
   * dataset's order, then the row's UTC day), for the part writer to run in a repeatable-read snapshot
   * of its own session. Rows from before the exports (no created_xid) belong to the range that starts at 0.
   */
  rowsCopy(dataset: ExportDataset, range: PartRange): string {
    const columns = dataset.columns.map(columnSql);
    const day = `to_char(${dataset.dateColumn} AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;
    const legacy = range.from_xid === '0' ? ' OR created_xid IS NULL' : '';
    const from = BigInt(range.from_xid).toString();
    const to = BigInt(range.to_xid).toString();
    const select = `SELECT ${[...columns, day].join(', ')} FROM ${dataset.table}
       WHERE (created_xid >= ${from} AND created_xid < ${to})${legacy} ORDER BY ${dataset.orderBy}`;
    return `COPY (${select}) TO STDOUT WITH (FORMAT csv)`;
  }

  /** A new run, in `manager`'s transaction (the request's: its key and audit entry commit with it). */
  async insertRun(
    manager: EntityManager,
    trigger: ExportTrigger,
    createdBy: string | null,
    now: Date,
  ): Promise<ExportRunRow> {
    const rows: ExportRunRow[] = await manager.query(
      `INSERT INTO export_runs (trigger, created_by, started_at) VALUES ($1, $2, $3) RETURNING *`,
      [trigger, createdBy, now],
    );
    return rows[0];
  }

  async finishRun(id: string, status: ExportRunStatus, error: string | null, now: Date): Promise<void> {
    await this.dataSource.query(`UPDATE export_runs SET status = $2, last_error = $3, finished_at = $4 WHERE id = $1`, [
      id,
      status,
      error,
      now,
    ]);
  }

  /** Runs left `running` by an instance that died: no lease is held, so none of them goes on. */
  async failAbandonedRuns(now: Date): Promise<void> {
    await this.dataSource.query(
      `UPDATE export_runs SET status = 'failed', finished_at = $1,
              last_error = coalesce(last_error, 'ended before it finished (the instance stopped or lost its database)')
        WHERE status = 'running'`,
      [now],
    );
  }

  async lastStart(): Promise<Date | null> {
    const rows: { at: Date | null }[] = await this.dataSource.query(`SELECT max(started_at) AS at FROM export_runs`);
    return rows[0].at;
  }

  /** The dataset's part left `writing` by a run that did not finish, if any. */
  async pendingPart(dataset: string): Promise<ExportPartRow | null> {
    const rows: ExportPartRow[] = await this.dataSource.query(
      `SELECT * FROM export_parts WHERE dataset = $1 AND status = 'writing'`,
      [dataset],
    );
    return rows[0] ?? null;
  }

  /** Where the dataset's next part starts: the end of its last finished part (0: none yet). */
  async watermark(dataset: string): Promise<string> {
    const rows: { xid: string | null }[] = await this.dataSource.query(
      `SELECT max(to_xid)::text AS xid FROM export_parts WHERE dataset = $1 AND status = 'done'`,
      [dataset],
    );
    return rows[0].xid ?? '0';
  }

  async insertPart(part: PartRange): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO export_parts (export_id, run_id, dataset, from_xid, to_xid) VALUES ($1, $2, $3, $4, $5)`,
      [part.export_id, part.run_id, part.dataset, part.from_xid, part.to_xid],
    );
  }

  /** Moves the watermark: the part's files are in place, its rows are exported. */
  async finishPart(exportId: string, runId: string, rows: number, files: number, now: Date): Promise<void> {
    await this.dataSource.query(
      `UPDATE export_parts SET status = 'done', run_id = $2, rows = $3, files = $4, finished_at = $5
        WHERE export_id = $1 AND status = 'writing'`,
      [exportId, runId, rows, files, now],
    );
  }

  async listRuns(limit: number, before: { startedAt: Date; id: string } | null): Promise<ExportRunRow[]> {
    const params: unknown[] = [limit];
    let where = '';
    if (before) {
      params.push(before.startedAt, before.id);
      where = `WHERE (started_at, id) < ($2::timestamptz, $3::uuid)`;
    }
    return this.dataSource.query(
      `SELECT * FROM export_runs ${where} ORDER BY started_at DESC, id DESC LIMIT $1`,
      params,
    );
  }

  async partsOf(runIds: string[]): Promise<ExportPartRow[]> {
    if (runIds.length === 0) return [];
    return this.dataSource.query(
      `SELECT * FROM export_parts WHERE run_id = ANY($1::uuid[]) AND status = 'done' ORDER BY dataset`,
      [runIds],
    );
  }
}
