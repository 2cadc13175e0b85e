import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import pg from 'pg';
import type { DataSource, EntityManager } from 'typeorm';

import { ACCOUNT_ACCESS, type AccountAccess } from '../auth/account-access.js';
import { connectionProblem } from '../common/errors/connection-errors.js';
import { DatabaseUnavailableError, OutcomeUnknownError } from '../common/errors/domain-error.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { connectionSettings } from '../database/data-source-options.js';
import { HeavyReads } from '../database/heavy-reads.js';
import { Transactions } from '../database/transactions.js';
import { EventsService } from '../events/events.service.js';
import { RecordCorrectors } from './record-correctors.js';
import { RERATE_APPLICATION_NAME, RerateConnections } from './rerate-connections.js';
import { ReratesRepository } from './rerates.repository.js';

/**
 * Records a chunk reads and corrects in one transaction: large enough that a chunk's fixed cost (the
 * lock, the cursor, the commit) is small beside its records, small enough that a crash redoes little
 * and the account locks the corrections take are held briefly.
 */
export const RERATE_CHUNK = 2000;

/**
 * How long a chunk's statements may take (its transaction's own statement_timeout): its corrections
 * are one statement of up to RERATE_CHUNK records, each a correction, which the pool's timeout for
 * one request's statement would cut on a busy database and fail the re-rate.
 */
const CHUNK_STATEMENT_TIMEOUT_MS = 600_000;

/** The lease session's statements are short; only the chunks (on their own pool) take long. */
const LEASE_STATEMENT_TIMEOUT_MS = 30_000;

/** How many times a lane writes a chunk again that PostgreSQL rolled back to end a deadlock. */
const DEADLOCK_RETRIES = 5;

/**
 * Runs re-rates (docs/pricing.md "Re-rating"): each on a lease (a session-level advisory lock of its
 * own connection, so one instance runs it and a killed instance lets go with its connection), in its
 * lanes at once, each lane chunk by chunk on a connection of the re-rates' own pool (RerateConnections,
 * never the request pool). A lane is the records whose
 * paying account's id is the lane modulo the re-rate's lanes, so no two lanes correct records of one
 * account: each account's corrections stay one after the other under its lock. A chunk is one
 * transaction: it locks its lane's row, reads the lane's next records after its cursor by
 * (occurred_at, id) priced by the simulation's rule, corrects those that differ, and moves the lane's
 * cursor and the re-rate's counts; so a crash or a database restart anywhere leaves either the chunk
 * whole or nothing of it, and the re-rate resumes at its lanes' cursors with no record corrected
 * twice. When every lane has reached the end, one more transaction completes the re-rate and emits
 * `pricing.rerate.completed`. A lost connection leaves the re-rate running for the job to resume; any
 * other error fails it (a deadlock, which another writer of a shared key budget may cause, writes the
 * chunk again).
 */
@Injectable()
export class RerateRunner implements OnApplicationShutdown {
  private readonly logger = new Logger('Rerates');
  private readonly active = new Map<string, Promise<void>>();
  private stopping = false;

  constructor(
    private readonly repo: ReratesRepository,
    private readonly tx: Transactions,
    private readonly heavy: HeavyReads,
    private readonly events: EventsService,
    private readonly corrector: RecordCorrectors,
    private readonly connections: RerateConnections,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ACCOUNT_ACCESS) private readonly access: Pick<AccountAccess, 'account'>,
  ) {}

  /**
   * Runs the re-rate here in the background unless this instance already does, holding the heavy
   * reads' place until it ends (`free`); resolves when it has ended here, never rejects.
   */
  launch(id: string, free: () => void): Promise<void> {
    const current = this.active.get(id);
    if (current) {
      free();
      return current;
    }
    const run = this.tx
      .detached(() => this.execute(id))
      .finally(() => {
        free();
        this.active.delete(id);
      });
    this.active.set(id, run);
    return run;
  }

  /** Every running re-rate this instance does not run yet, while heavy reads have room (the job). */
  async resume(): Promise<void> {
    if (this.stopping) return;
    for (const id of await this.repo.running()) {
      if (this.active.has(id)) continue;
      let free: () => void;
      try {
        free = this.heavy.place();
      } catch {
        return;
      }
      void this.launch(id, free);
    }
  }

  /** The re-rates under way here (tests wait for them). */
  async settled(): Promise<void> {
    await Promise.all(this.active.values());
  }

  private async execute(id: string): Promise<void> {
    let client: pg.Client | null = null;
    let lost = false;
    let halted = false;
    const stop = () => this.stopping || lost || halted;
    try {
      client = await this.connect(() => (lost = true));
      if (!(await this.repo.tryLease(client, id))) return;
      const accountId = await this.accountOf(id);
      // Every lane to its end (or its first error); the lease is held until the last lane's chunk ended.
      const outcomes = await Promise.allSettled(
        (await this.repo.openLanes(id)).map((lane) =>
          this.runLane(id, lane.lane, accountId, stop).catch((error: unknown) => {
            halted = true;
            throw error;
          }),
        ),
      );
      const errors = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
      if (errors.length > 0) throw errors.find((e) => !transient(e)) ?? errors[0];
      if (stop()) return;
      await this.tx.run((manager) => this.complete(manager, id));
    } catch (error) {
      if (transient(error)) {
        this.logger.warn({ msg: 're-rate interrupted; it resumes from its cursor', rerate: id, err: String(error) });
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      this.logger.error({ msg: 're-rate failed', rerate: id, err: message });
      await this.repo.fail(id, message).catch(() => undefined);
    } finally {
      await client?.end().catch(() => undefined);
    }
  }

  /**
   * The id of the account whose records a re-rate of one account corrects: its request names the
   * owner as the API does (`account`), read into the account by the one resolver once a run (null:
   * the owner has no account, so no records); every account's: null, unused.
   */
  private async accountOf(id: string): Promise<string | null> {
    const named = (await this.repo.find(id))?.request.account ?? null;
    if (named === null) return null;
    const owner =
      named.orgId !== undefined
        ? { kind: 'org' as const, ownerId: named.orgId }
        : { kind: 'user' as const, ownerId: named.userId };
    return (await this.access.account(owner))?.accountId ?? null;
  }

  /** One lane's chunks, one after the other, until it has nothing left or `stop()`. */
  private async runLane(id: string, lane: number, accountId: string | null, stop: () => boolean): Promise<void> {
    const pool = await this.connections.dataSource(this.primaryUrl(), CHUNK_STATEMENT_TIMEOUT_MS);
    let deadlocks = 0;
    for (;;) {
      if (stop()) return;
      try {
        if (await this.tx.runOn(pool, (manager) => this.step(manager, id, lane, accountId))) return;
        deadlocks = 0;
      } catch (error) {
        if (!deadlock(error) || ++deadlocks > DEADLOCK_RETRIES) throw error;
        this.logger.warn({ msg: 're-rate chunk deadlocked; written again', rerate: id, lane });
      }
    }
  }

  /**
   * One chunk of a lane in the caller's transaction; true when the lane has nothing left (or the
   * re-rate is not running).
   */
  private async step(manager: EntityManager, id: string, lane: number, accountId: string | null): Promise<boolean> {
    const started = performance.now();
    // No JIT: the chunk's read is estimated above jit_above_cost (its sort over the range), and compiling
    // its expressions cost more than the read itself (docs/benchmarks.md "Re-rates").
    await manager.query(`SELECT set_config('statement_timeout', $1, true), set_config('jit', 'off', true)`, [
      String(CHUNK_STATEMENT_TIMEOUT_MS),
    ]);
    const rerate = await this.repo.lockForChunk(manager, id, lane);
    if (!rerate || rerate.status !== 'running' || rerate.done) return true;
    const chunk = await this.repo.chunk(
      manager,
      rerate.request,
      accountId,
      { at: rerate.at, id: rerate.cursorId },
      RERATE_CHUNK,
      { lane, lanes: rerate.lanes },
    );
    const read = performance.now();
    const results =
      chunk.changes.length === 0
        ? []
        : await this.corrector.correctMany(
            manager,
            { correctionId: `rerate:${rerate.rerateId}`, reason: rerate.request.reason, createdBy: rerate.createdBy },
            chunk.changes.map(([recordId, credits]) => ({ recordId, credits })),
          );
    const corrected = performance.now();
    const moved = results.filter((r) => r.delta !== 0);
    const done = chunk.examined < RERATE_CHUNK;
    await this.repo.advance(
      manager,
      id,
      lane,
      {
        at: chunk.lastAt,
        cursorId: chunk.lastId,
        examined: chunk.examined,
        corrected: moved.length,
        delta: moved.reduce((sum, r) => sum + r.delta, 0),
      },
      done,
    );
    // Where a chunk's time goes: the read of its records, and their corrections.
    this.logger.debug({
      msg: 're-rate chunk',
      rerate: id,
      lane,
      examined: chunk.examined,
      corrected: moved.length,
      readMs: Math.round(read - started),
      correctMs: Math.round(corrected - read),
    });
    return done;
  }

  /** Completes the re-rate once every lane reached the end, with its one `pricing.rerate.completed`. */
  private async complete(manager: EntityManager, id: string): Promise<void> {
    const row = await this.repo.complete(manager, id);
    if (!row) return;
    await this.events.emit(manager, 'pricing.rerate.completed', {
      id: row.id,
      rerateId: row.rerate_id,
      records: Number(row.records),
      corrected: Number(row.corrected),
      delta: Number(row.delta),
    });
  }

  /** The lease's own session: the advisory lock lives as long as it. */
  private async connect(onLost: () => void): Promise<pg.Client> {
    const settings = connectionSettings(
      { ...this.config.database, statementTimeoutMs: LEASE_STATEMENT_TIMEOUT_MS },
      RERATE_APPLICATION_NAME,
    );
    const client = new pg.Client({ connectionString: this.primaryUrl(), ...settings });
    client.on('error', onLost);
    client.on('end', onLost);
    await client.connect();
    return client;
  }

  /** The primary's URL: the request pool's (a re-rate writes). */
  private primaryUrl(): string {
    const url = (this.dataSource.options as { url?: string }).url ?? this.config.database.url;
    if (!url) throw new Error('No database URL');
    return url;
  }

  /** Lets the chunks under way commit (or not) before the process goes; no new chunk starts. */
  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.settled();
    await this.connections.close();
  }
}

/** PostgreSQL ended the chunk's transaction to break a deadlock: nothing of it was written. */
function deadlock(error: unknown): boolean {
  const code = (error as { driverError?: { code?: unknown }; code?: unknown } | null)?.driverError?.code;
  return code === '40P01';
}

/** An error after which the re-rate is left running: the database went away, not the work. */
function transient(error: unknown): boolean {
  return (
    error instanceof DatabaseUnavailableError ||
    error instanceof OutcomeUnknownError ||
    connectionProblem(error) !== null
  );
}
