import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

const ambient = new AsyncLocalStorage<EntityManager>();

/**
 * Runs work in a database transaction. When one is already open for the current request (the
 * idempotency interceptor opens one so the stored response commits with its effect), the work joins
 * it instead of opening a second one.
 */
@Injectable()
export class Transactions {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const current = ambient.getStore();
    if (current) return work(current);
    return this.dataSource.transaction((manager) => ambient.run(manager, () => work(manager)));
  }

  /**
   * The manager to run ONE self-contained statement with: the request's ambient transaction when
   * there is one, else the pool (the statement is then its own transaction: one round trip, no
   * BEGIN/COMMIT).
   */
  get statementManager(): EntityManager {
    return ambient.getStore() ?? this.dataSource.manager;
  }
}
