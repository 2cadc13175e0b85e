import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';

import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import pg from 'pg';
import type { DataSource } from 'typeorm';

import { AuditService } from '../audit/audit.service.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { DomainError } from '../common/errors/domain-error.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { connectionSettings } from '../database/data-source-options.js';
import { HeavyReads } from '../database/heavy-reads.js';
import { Transactions } from '../database/transactions.js';
import type { ExportTrigger } from './entities/export-run.entity.js';
import { EXPORT_DATASETS, type ExportDataset } from './export-datasets.js';
import { type ExportRunRow, ExportsRepository, type PartRange } from './exports.repository.js';
import { partConversion, partScratch, placePartFiles, removePartFiles } from './parquet-files.js';
import { writePartInChild } from './part-writer.js';

/** A run's statements may take this long (one sorted range of a large table): its own session only. */
const RUN_STATEMENT_TIMEOUT_MS = 30 * 60_000;

export interface ExportRunResult {
  run: ExportRunRow;
  /** Resolves when the run has ended (completed or failed); never rejects. */
  done: Promise<void>;
}

/**
 * The Parquet exports (docs/exports.md). A run holds a lease (an advisory lock of its own session),
 * so one instance exports at a time; for each dataset it first finishes a part an earlier run left
 * `writing`, then writes the rows since the dataset's watermark up to the horizon, and moves the
 * watermark only once the files are renamed into place. A crash anywhere leaves either the old
 * watermark (the part is written again, replacing its files) or the new one: never a row in two files.
 */
@Injectable()
export class ExportsService implements OnApplicationShutdown {
  private readonly logger = new Logger('Exports');
  private current: Promise<void> | null = null;

  constructor(
    private readonly repo: ExportsRepository,
    private readonly audit: AuditService,
    private readonly tx: Transactions,
    private readonly heavy: HeavyReads,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  get enabled(): boolean {
    return this.config.parquetExports.dir !== null;
  }

  /** Starts a run now; EXPORT_RUNNING when one is under way on any instance. */
  async start(trigger: ExportTrigger, createdBy: string | null): Promise<ExportRunResult> {
    const dir = this.config.parquetExports.dir;
    if (dir === null) throw new DomainError('EXPORTS_NOT_CONFIGURED', 'Exports are off: EXPORT_DIR is not set');
    const free = this.heavy.place();
    let client: pg.Client | null = null;
    try {
      client = await this.connect();
      if (!(await this.repo.tryLease(client))) {
        throw new DomainError('EXPORT_RUNNING', 'An export is running; its run is listed by GET /api/exports');
      }
      await this.repo.failAbandonedRuns(this.now());
      // The run row joins the request's transaction (its idempotency key, its audit entry): they
      // commit together or not at all, and the run writes files only once they have. Until then the
      // lease is held; a transaction that does not commit lets it go with the place.
      const lease = client;
      let begin!: () => void;
      let abandon!: () => void;
      const committed = new Promise<boolean>((resolve) => {
        begin = () => resolve(true);
        abandon = () => resolve(false);
      });
      const run = await this.tx.run(async (manager) => {
        const row = await this.repo.insertRun(manager, trigger, createdBy, this.now());
        if (trigger === 'manual') {
          await this.audit.record(manager, {
            action: 'export.run',
            targetId: row.id,
            before: null,
            after: { trigger },
          });
        }
        this.tx.afterCommit(begin);
        this.tx.afterRollback(abandon);
        return row;
      });
      const done = committed
        .then(async (ok) => {
          if (ok) return this.execute(lease, dir, run);
          await lease.end().catch(() => undefined);
        })
        .finally(() => {
          free();
          this.current = null;
        });
      this.current = done;
      return { run, done };
    } catch (error) {
      free();
      await client?.end().catch(() => undefined);
      throw error;
    }
  }

  /** The scheduled run, when EXPORT_INTERVAL_MINUTES have passed since the last one started. */
  async runIfDue(): Promise<void> {
    if (!this.enabled) return;
    const last = await this.repo.lastStart();
    const due = !last || this.now().getTime() - last.getTime() >= this.config.parquetExports.intervalMinutes * 60_000;
    if (!due) return;
    try {
      await (
        await this.start('schedule', null)
      ).done;
    } catch (error) {
      // Another instance is exporting, or this one's heavy reads are all taken: the next minute tries again.
      const busy = error instanceof DomainError && ['EXPORT_RUNNING', 'HEAVY_READS_BUSY'].includes(error.code);
      if (!busy) throw error;
    }
  }

  private async execute(client: pg.Client, dir: string, run: ExportRunRow): Promise<void> {
    try {
      for (const dataset of EXPORT_DATASETS) await this.exportDataset(client, dir, dataset, run.id);
      await this.repo.finishRun(run.id, 'completed', null, this.now());
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.logger.warn({ msg: 'export run failed; the next run goes on from its watermark', err: message });
      await this.repo.finishRun(run.id, 'failed', message.slice(0, 2000), this.now()).catch(() => undefined);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private async exportDataset(client: pg.Client, dir: string, dataset: ExportDataset, runId: string) {
    let part: PartRange | null = await this.repo.pendingPart(dataset.name);
    if (part) {
      await removePartFiles(dir, dataset.name, part.export_id);
    } else {
      const from = await this.repo.watermark(dataset.name);
      const to = await this.repo.horizon(client);
      if (BigInt(to) <= BigInt(from)) return;
      part = {
        export_id: `${runId}-${dataset.name}`,
        run_id: runId,
        dataset: dataset.name,
        from_xid: from,
        to_xid: to,
      };
      await this.repo.insertPart(part);
    }
    // Each attempt has a scratch folder of its own inside the part's: a writer left by a stopped
    // instance ends, but it never writes where this one does.
    const partFolder = partScratch(dir, part.export_id);
    const scratch = path.join(partFolder, randomUUID());
    // The owner's only: the CSV and DuckDB's output hold the rows before their files get their mode.
    await mkdir(scratch, { recursive: true, mode: 0o700 });
    try {
      const csv = path.join(scratch, 'rows.csv');
      const out = path.join(scratch, 'out');
      const { days } = await writePartInChild({
        connection: this.connectionConfig(),
        copySql: this.repo.rowsCopy(dataset, part),
        csvFile: csv,
        rowsPerSecond: this.config.parquetExports.rowsPerSecond,
        ...partConversion(dataset, csv, out),
        spillDir: path.join(scratch, 'spill'),
      });
      const files = await placePartFiles(dir, dataset, part.export_id, out, days, this.config.parquetExports.fileMode);
      const rows = files.reduce((sum, f) => sum + f.rows, 0);
      await this.repo.finishPart(part.export_id, runId, rows, files.length, this.now());
    } finally {
      await rm(partFolder, { recursive: true, force: true });
    }
  }

  /** The run's own session: the lease lives as long as it, and its statements may run long. */
  private async connect(): Promise<pg.Client> {
    const client = new pg.Client(this.connectionConfig());
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  /** The run's sessions (its lease's, its part writers'): long statements allowed. */
  private connectionConfig(): pg.ClientConfig {
    const { database } = this.config;
    const url = (this.dataSource.options as { url?: string }).url ?? database.url;
    const settings = connectionSettings(
      { ...database, statementTimeoutMs: RUN_STATEMENT_TIMEOUT_MS },
      'accounting-parquet-exports',
    );
    return { connectionString: url ?? undefined, ...settings };
  }

  private now(): Date {
    return new Date(this.clock.now());
  }

  /** Lets a run under way finish its part before the process goes (a stop mid-part is safe too). */
  async onApplicationShutdown(): Promise<void> {
    await this.current;
  }
}
