import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

import pg from 'pg';
import { DataSource } from 'typeorm';
import { inject } from 'vitest';

import { MIGRATIONS } from '../../migrations/index.js';
import { buildDatabaseConfig } from '../../src/config/app-config.js';
import { buildDataSourceOptions } from '../../src/database/data-source-options.js';
import { prefixTemplateName } from './database-names.js';
import { dropDatabase } from './own-database.js';
import { onceARun } from './run-once.js';
import { until } from './until.js';

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

  /** Nothing has run on it yet (a copy of a migrated database may replace it). */
  private empty = true;

  /** A data source over the database with these migrations (none run yet). */
  dataSource(migrations: Migrations = MIGRATIONS): DataSource {
    return new DataSource({
      ...buildDataSourceOptions({ ...buildDatabaseConfig({ DATABASE_URL: this.url }), url: this.url }),
      migrations,
      migrationsRun: false,
    });
  }

  /**
   * Runs whichever of these migrations have not run. On the still empty database, the ones they begin
   * with (the first `k` of MIGRATIONS) come from the run's copy of a database those `k` made
   * (prefixTemplate()), and only the others run here: what they make is the same.
   */
  async migrate(migrations: Migrations = MIGRATIONS): Promise<void> {
    if (this.empty) {
      this.empty = false;
      let k = 0;
      while (k < migrations.length && migrations[k] === MIGRATIONS[k]) k++;
      // The spec's pool has no session on it yet (it read nothing), so the database can be replaced.
      const template =
        k >= MIN_PREFIX && this.db.totalCount === 0 ? await MigrationDatabase.prefixTemplate(k) : undefined;
      if (template) {
        await dropDatabase(this.name);
        await MigrationDatabase.onServer(`CREATE DATABASE ${this.name} TEMPLATE ${template}`);
        if (k === migrations.length) return;
      }
    }
    await this.withDataSource(migrations, (ds) => ds.runMigrations({ transaction: 'each' }));
  }

  /** Undoes the last `times` migrations that ran. */
  async revert(times: number): Promise<void> {
    this.empty = false;
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

  /**
   * A database nobody connects to with the first `k` of MIGRATIONS run on it, made once per test run
   * (the first spec to ask makes it, onceARun(); any other waits): a copy of the run's migrated template
   * when `k` is all of them, else of the largest such database the run already has below `k` (or an
   * empty one) with the rest of the `k` run on it. Each migration spec copies it in well under a second
   * instead of migrating from scratch, which took tens of seconds of the database server apiece. Outside
   * the suite's global setup: none (the spec migrates itself).
   */
  private static async prefixTemplate(k: number): Promise<string | undefined> {
    const runDatabase = new URL(inject('databaseUrl')).pathname.slice(1);
    if (k === MIGRATIONS.length) return inject('migratedTemplate') || undefined;
    const builds = inject('serverBuilds');
    if (!builds) return undefined;
    const name = prefixTemplateName(runDatabase, k);
    await onceARun(path.join(builds, `migrated-${k}`), `database of the first ${k} migrations`, async () => {
      const below = readdirSync(builds)
        .map((entry) => /^migrated-(\d+)$/.exec(entry))
        .map((match) => (match ? Number(match[1]) : 0))
        .filter((j) => j < k && existsSync(path.join(builds, `migrated-${j}`, 'done')))
        .sort((a, b) => b - a)[0];
      await MigrationDatabase.onServer(
        below
          ? `CREATE DATABASE ${name} TEMPLATE ${prefixTemplateName(runDatabase, below)}`
          : `CREATE DATABASE ${name}`,
      );
      const url = new URL(inject('adminDatabaseUrl'));
      url.pathname = `/${name}`;
      const made = new MigrationDatabase(name, url.toString());
      made.empty = false;
      try {
        await made.migrate(MIGRATIONS.slice(0, k));
      } finally {
        await made.db.end();
      }
      await MigrationDatabase.onServer(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false`);
      // A copy needs a source nobody is connected to: the migrations' sessions may still be closing.
      await until(`the sessions on ${name} have closed`, () => MigrationDatabase.unused(name), 10_000, 50);
    });
    return name;
  }

  private static async unused(name: string): Promise<boolean> {
    const { rowCount } = await MigrationDatabase.onServer(
      `SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND backend_type IS DISTINCT FROM 'autovacuum worker'`,
      [name],
    );
    return rowCount === 0;
  }

  private static async onServer(statement: string, params: unknown[] = []): Promise<pg.QueryResult> {
    const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await admin.connect();
    try {
      return await admin.query(statement, params);
    } finally {
      await admin.end();
    }
  }
}

/** Fewer migrations than this run faster than a copy is made. */
const MIN_PREFIX = 10;
