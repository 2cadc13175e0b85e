import { AsyncLocalStorage } from 'node:async_hooks';

import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

import { connectionProblem } from '../common/errors/connection-errors.js';
import { DatabaseUnavailableError, OutcomeUnknownError } from '../common/errors/domain-error.js';
import { commitReplicated } from './connections/unreplicated-commit.js';
import { PoolStatementManager } from './pool-statements.js';

interface Ambient {
  manager: EntityManager;
  /** Run once the transaction committed (never after a rollback). */
  afterCommit: (() => void)[];
  /** Run once the transaction did not commit (rolled back, or its connection lost). */
  afterRollback: (() => void)[];
}

const ambient = new AsyncLocalStorage<Ambient>();

/**
 * Runs work in a database transaction. When one is already open for the current request (the
 * idempotency interceptor opens one so the stored response commits with its effect), the work joins
 * it instead of opening a second one.
 */
@Injectable()
export class Transactions {
  /** Statements outside a transaction: straight on the pool (src/database/pool-statements.ts). */
  private readonly pooled: EntityManager;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.pooled = new PoolStatementManager(dataSource);
  }

  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const current = ambient.getStore();
    if (current) return work(current.manager);
    return this.transaction(this.dataSource, work);
  }

  /**
   * A transaction of its own on a connection of `dataSource`'s pool (a pool apart from the request
   * pool: a re-rate's lanes), never joining the request's; what `work` calls through run() joins it.
   */
  runOn<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return ambient.exit(() => this.transaction(dataSource, work));
  }

  /**
   * BEGIN … COMMIT on one connection, telling apart what a lost connection means: lost before COMMIT
   * was sent, nothing committed (DatabaseUnavailableError: a plain retry is safe); lost while COMMIT
   * was in flight, it may have committed (OutcomeUnknownError). TypeORM's own wrapper reported both
   * as whatever its rollback attempt threw on the dead connection (a 500).
   */
  private async transaction<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    // A connection that broke is discarded by DiscardBrokenConnections as the failing statement returns.
    const runner = dataSource.createQueryRunner();
    const classify = (error: unknown, lost: (cause: unknown) => Error): unknown =>
      connectionProblem(error) ? lost(error) : error;
    try {
      let connection: Parameters<typeof commitReplicated>[0];
      try {
        connection = (await runner.connect()) as typeof connection;
        await runner.startTransaction();
      } catch (error) {
        throw classify(error, (cause) => new DatabaseUnavailableError(cause));
      }
      let result: T;
      const context: Ambient = { manager: runner.manager, afterCommit: [], afterRollback: [] };
      try {
        result = await ambient.run(context, () => work(runner.manager));
      } catch (error) {
        if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
        for (const callback of context.afterRollback) callback();
        throw classify(error, (cause) => new DatabaseUnavailableError(cause));
      }
      try {
        // A commit the synchronous standby did not confirm is not reported as a success.
        await commitReplicated(connection, () => runner.commitTransaction());
      } catch (error) {
        // Committed or not, nothing here will act on it: what waited for the commit lets go.
        for (const callback of context.afterRollback) callback();
        throw classify(error, (cause) => new OutcomeUnknownError(cause));
      }
      for (const callback of context.afterCommit) callback();
      return result;
    } finally {
      await runner.release().catch(() => undefined);
    }
  }

  /**
   * Runs `work` outside the current request's transaction: work a request starts in the background (a
   * re-rate's chunks) opens transactions of its own instead of joining the request's.
   */
  detached<T>(work: () => T): T {
    return ambient.exit(work);
  }

  /** Whether the current request runs in a transaction (its statements share one connection). */
  get inTransaction(): boolean {
    return ambient.getStore() !== undefined;
  }

  /**
   * The manager to run ONE self-contained statement with: the request's ambient transaction when
   * there is one, else the pool (the statement is then its own transaction: one round trip, no
   * BEGIN/COMMIT).
   */
  get statementManager(): EntityManager {
    return ambient.getStore()?.manager ?? this.pooled;
  }

  /**
   * Runs `callback` once the current transaction commits (never if it rolls back); outside a
   * transaction, at once (a self-contained statement has committed when it returns). For side
   * effects that must only count what happened, such as metrics.
   */
  afterCommit(callback: () => void): void {
    const current = ambient.getStore();
    if (current) current.afterCommit.push(callback);
    else callback();
  }

  /**
   * Runs `callback` once the current transaction ends without a commit it can report (a rollback, a
   * lost connection); never outside a transaction. For what work held waiting for afterCommit (a
   * lease, a place among the heavy reads), so a request that fails does not keep it.
   */
  afterRollback(callback: () => void): void {
    ambient.getStore()?.afterRollback.push(callback);
  }
}
