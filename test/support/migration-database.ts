import { randomBytes } from 'node:crypto';

import pg from 'pg';
import { DataSource } from 'typeorm';
import { inject } from 'vitest';

import { MIGRATIONS } from '../../migrations/index.js';
import { buildDatabaseConfig } from '../../src/config/app-config.js';
import { buildDataSourceOptions } from '../../src/database/data-source-options.js';
import { dropDatabase } from './own-database.js';

type Migrations = typeof MIGRATIONS;

/**
 * An empty database of a migration spec's own on the test server, to migrate step by step: up to a
 * migration, up to the last, or back some steps, each step in its own transaction as the CLI does.
 */
export class MigrationDatabase {
  /** Two connections to it, for the spec's own rows and reads. */
  readonly db: pg.Pool;

  private constructor(
    private readonly name: string,
    readonly url: string,
  ) {
    this.db = new pg.Pool({ connectionString: url, max: 2 });
    // DROP … WITH (FORCE) may reach a connection still closing: its error then is no test's failure.
    this.db.on('error', () => undefined);
  }

  /** A new database named `<prefix>_<random>`. */
  static async create(prefix: string): Promise<MigrationDatabase> {
    const name = `${prefix}_${randomBytes(4).toString('hex')}`;
    await MigrationDatabase.onServer(`CREATE DATABASE ${name}`);
    const url = new URL(inject('adminDatabaseUrl'));
    url.pathname = `/${name}`;
    return new MigrationDatabase(name, url.toString());
  }

  /** A data source over the database with these migrations (none run yet). */
  dataSource(migrations: Migrations = MIGRATIONS): DataSource {
    return new DataSource({
      ...buildDataSourceOptions({ ...buildDatabaseConfig({ DATABASE_URL: this.url }), url: this.url }),
      migrations,
      migrationsRun: false,
    });
  }

  /** Runs whichever of these migrations have not run. */
  async migrate(migrations: Migrations = MIGRATIONS): Promise<void> {
    await this.withDataSource(migrations, (ds) => ds.runMigrations({ transaction: 'each' }));
  }

  /** Undoes the last `times` migrations that ran. */
  async revert(times: number): Promise<void> {
    await this.withDataSource(MIGRATIONS, async (ds) => {
      for (let i = 0; i < times; i++) await ds.undoLastMigration({ transaction: 'each' });
    });
  }

  async close(): Promise<void> {
    await this.db.end();
    await dropDatabase(this.name);
  }

  private async withDataSource(migrations: Migrations, work: (ds: DataSource) => Promise<unknown>): Promise<void> {
    const ds = this.dataSource(migrations);
    await ds.initialize();
    try {
      await work(ds);
    } finally {
      await ds.destroy();
    }
  }

  private static async onServer(statement: string): Promise<void> {
    const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await admin.connect();
    try {
      await admin.query(statement);
    } finally {
      await admin.end();
    }
  }
}
