import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Re-rates (docs/pricing.md "Re-rating"): one row a re-rate, with its request as given (what a
 * repeated `rerateId` is compared with), its progress and its cursor, `(cursor_at, cursor_id)` on the
 * records' `(occurred_at, id)`, advanced in the transaction that writes the corrections of the records
 * before it, so a re-rate resumed after a crash corrects no record twice.
 */
export class PricingRerates1732000812000 implements MigrationInterface {
  name = 'PricingRerates1732000812000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE pricing_rerates (
        id          uuid          NOT NULL DEFAULT uuid_v7(),
        rerate_id   varchar(100)  NOT NULL,
        request     jsonb         NOT NULL,
        status      varchar(10)   NOT NULL DEFAULT 'running'
                    CONSTRAINT pricing_rerates_status_check CHECK (status::text = ANY ('{running,completed,failed}'::text[])),
        records     bigint        NOT NULL DEFAULT '0',
        corrected   bigint        NOT NULL DEFAULT '0',
        delta       bigint        NOT NULL DEFAULT '0',
        cursor_at   timestamptz,
        cursor_id   uuid,
        created_by  varchar(50)   NOT NULL,
        started_at  timestamptz   NOT NULL DEFAULT now(),
        finished_at timestamptz,
        last_error  varchar(2000),
        CONSTRAINT pricing_rerates_pkey PRIMARY KEY (id),
        CONSTRAINT pricing_rerates_rerate_id_key UNIQUE (rerate_id)
      )`);
    await q.query(`CREATE INDEX pricing_rerates_running_idx ON pricing_rerates (started_at) WHERE status = 'running'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE pricing_rerates`);
  }
}
