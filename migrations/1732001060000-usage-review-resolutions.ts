import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Review resolutions as rows (docs/exports.md): a collect adds to a record's credits and a resolution
 * rewrites its review state, so an export that read the record once could not see either.
 * `usage_review_resolutions` keeps each one, with `created_xid` and its BRIN index as every exported
 * table has. usage_record_resolve() writes it (the next migration). Resolutions made before this
 * migration have no row.
 */
export class UsageReviewResolutions1732001060000 implements MigrationInterface {
  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE usage_review_resolutions (
        id uuid NOT NULL DEFAULT uuid_v7(),
        record_id uuid NOT NULL,
        resolution varchar(20) NOT NULL,
        open_shortfall integer NOT NULL,
        collected integer NOT NULL,
        created_by varchar(50) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        created_xid bigint DEFAULT txid_current(),
        CONSTRAINT usage_review_resolutions_pkey PRIMARY KEY (id),
        CONSTRAINT usage_review_resolutions_record_id_fkey FOREIGN KEY (record_id) REFERENCES usage_records (id),
        CONSTRAINT usage_review_resolutions_resolution_check CHECK (resolution IN ('write_off', 'collect')),
        CONSTRAINT usage_review_resolutions_amounts_check CHECK (collected >= 0 AND collected <= open_shortfall)
      )`);
    await q.query(`CREATE INDEX usage_review_resolutions_record_idx ON usage_review_resolutions (record_id)`);
    await q.query(
      `CREATE INDEX usage_review_resolutions_created_xid_brin ON usage_review_resolutions USING brin (created_xid)`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE usage_review_resolutions`);
  }
}
