import { AsyncResource } from 'node:async_hooks';

import {
  type BeforeApplicationShutdown,
  type DynamicModule,
  Global,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { InjectDataSource, TypeOrmModule } from '@nestjs/typeorm';
import type { DataSource, DataSourceOptions } from 'typeorm';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { DatabaseProbe } from './connections/database-probe.js';
import { buildDataSourceOptions } from './data-source-options.js';
import { ExportConnections } from './export-connections.js';
import { HeavyReads } from './heavy-reads.js';
import { migrateUnderLock } from './migration-lock.js';
import { migrateAsOwner } from './service-role.js';
import { Transactions } from './transactions.js';

/**
 * A lost database connection must not bring the process down: idle pool clients that die emit
 * 'error' on the pool, which would be an uncaught exception without a listener. Readiness reports
 * the outage; requests get 503/500 until the database is back.
 */
@Injectable()
class PoolErrorListener implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Database');
  /**
   * Once the app is closing, a connection that ends is expected, not news: a job that took one while
   * the pool was closing keeps it until the embedded PostgreSQL stops, and Ctrl-C printed a warning.
   */
  private closing = false;
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  beforeApplicationShutdown(): void {
    this.closing = true;
  }

  onApplicationBootstrap(): void {
    type Pool = { on(e: string, f: (err: Error) => void): void };
    const driver = this.dataSource.driver as unknown as { master?: Pool; slaves?: Pool[] };
    // Bound to this (request-less) context: the pool emits from the dying client's socket, whose async
    // context is the request that happened to open it, so the line carried a long-finished request id.
    const listen = (pool: Pool | undefined, msg: string) =>
      pool?.on(
        'error',
        AsyncResource.bind((err: Error) => {
          if (!this.closing) this.logger.warn({ msg, err: err.message });
        }),
      );
    listen(driver.master, 'database connection lost');
    for (const replica of driver.slaves ?? []) listen(replica, 'read replica connection lost');
  }
}

/** The database for the app; the composition root hands it the entities (src/entities.ts). */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(entities: NonNullable<DataSourceOptions['entities']>): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: async (config: AppConfig) => {
            const { url, migrationUrl } = config.database;
            if (!url)
              throw new Error('No database URL: DATABASE_URL, DB_HOST or the embedded database must provide one');
            // Two roles: the owner migrates and grants, the service connects as a role that owns nothing.
            if (migrationUrl) await migrateAsOwner({ ...config.database, url, migrationUrl });
            // One role: the migrations run here, under their advisory lock, not in TypeORM's start-up
            // (which takes none): instances starting together on an empty database would collide.
            else if (config.database.migrationsRun) await migrateUnderLock({ ...config.database, url });
            return {
              ...buildDataSourceOptions({ ...config.database, url, migrationsRun: false }, entities),
              retryAttempts: 3,
              retryDelay: 1000,
            };
          },
        }),
      ],
      providers: [PoolErrorListener, Transactions, ExportConnections, HeavyReads, DatabaseProbe],
      exports: [Transactions, ExportConnections, HeavyReads, DatabaseProbe],
    };
  }
}
