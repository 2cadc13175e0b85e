import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The tables exported to Parquet, each with the column that places its rows in an export. */
const EXPORTED = ['usage_records', 'credit_ledger', 'credit_allocations', 'purchases'] as const;

/**
 * Parquet exports (docs/exports.md). Each exported table gets `created_xid`: the id of the
 * transaction that inserted the row (a default, so no writer changes). A run exports the rows whose
 * `created_xid` lies between the last run's horizon and its own, the oldest transaction still running
 * when it starts: no transaction can add a row below that horizon later, and updates (a lot's
 * remaining credits, a purchase's status) keep the column, so every row lands in exactly one export.
 * Rows inserted before this migration have none and belong to the first export. `txid_current()`
 * is the transaction id as a bigint (pg_current_xact_id()'s xid8 has no cast to bigint but through
 * text). A BRIN index keeps
 * the range scan cheap without a B-tree to maintain on the write path.
 */
export class ParquetExports1732000600000 implements MigrationInterface {
  public async up(queryRunner: QueryRunner): Promise<void> {
    for (const table of EXPORTED) {
      await queryRunner.query(`ALTER TABLE ${table} ADD COLUMN created_xid bigint`);
      await queryRunner.query(`ALTER TABLE ${table} ALTER COLUMN created_xid SET DEFAULT txid_current()`);
      await queryRunner.query(`CREATE INDEX ${table}_created_xid_brin ON ${table} USING brin (created_xid)`);
    }
    await queryRunner.query(`
      CREATE TABLE export_runs (
        id uuid NOT NULL DEFAULT uuid_v7(),
        status varchar(20) NOT NULL DEFAULT 'running',
        trigger varchar(20) NOT NULL,
        created_by varchar(50),
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        last_error text,
        CONSTRAINT export_runs_pkey PRIMARY KEY (id),
        CONSTRAINT export_runs_status_check CHECK (status::text = ANY ('{running,completed,failed}'::text[])),
        CONSTRAINT export_runs_trigger_check CHECK (trigger::text = ANY ('{schedule,manual}'::text[]))
      )`);
    await queryRunner.query(`CREATE INDEX export_runs_started_idx ON export_runs (started_at, id)`);
    // One part a dataset a run: the rows of [from_xid, to_xid). A part still `writing` after a crash is
    // written again, whole, under the same export id (its files are replaced) before anything newer.
    await queryRunner.query(`
      CREATE TABLE export_parts (
        export_id varchar(100) NOT NULL,
        run_id uuid NOT NULL,
        dataset varchar(40) NOT NULL,
        from_xid bigint NOT NULL,
        to_xid bigint NOT NULL,
        status varchar(20) NOT NULL DEFAULT 'writing',
        rows bigint NOT NULL DEFAULT '0',
        files integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        CONSTRAINT export_parts_pkey PRIMARY KEY (export_id),
        CONSTRAINT export_parts_run_id_fkey FOREIGN KEY (run_id) REFERENCES export_runs (id),
        CONSTRAINT export_parts_status_check CHECK (status::text = ANY ('{writing,done}'::text[])),
        CONSTRAINT export_parts_range_check CHECK (from_xid <= to_xid)
      )`);
    await queryRunner.query(`CREATE INDEX export_parts_run_idx ON export_parts (run_id)`);
    await queryRunner.query(`CREATE INDEX export_parts_dataset_idx ON export_parts (dataset, to_xid)`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX export_parts_writing_idx ON export_parts (dataset) WHERE status = 'writing'`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE export_parts`);
    await queryRunner.query(`DROP TABLE export_runs`);
    for (const table of EXPORTED) await queryRunner.query(`ALTER TABLE ${table} DROP COLUMN created_xid`);
  }
}
