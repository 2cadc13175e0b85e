import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A re-rate's lanes (docs/pricing.md "Re-rating"): its records cut by the account that pays for them
 * (`account_id % lanes`), each lane run on its own connection with its own cursor on the records'
 * `(occurred_at, id)` and whether it reached the end, advanced in the transaction that writes the
 * corrections of the records before it. `pricing_rerates.lanes` is fixed when the re-rate starts, so a
 * resumed re-rate cuts its records the same way. A re-rate started before runs on as one lane, from its
 * cursor; the cursor moves from `pricing_rerates` to its lane.
 */
export class PricingRerateLanes1732000960000 implements MigrationInterface {
  name = 'PricingRerateLanes1732000960000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE pricing_rerates ADD COLUMN lanes smallint NOT NULL DEFAULT '1'`);
    await q.query(`
      CREATE TABLE pricing_rerate_lanes (
        rerate_id  uuid      NOT NULL,
        lane       smallint  NOT NULL,
        cursor_at  timestamptz,
        cursor_id  uuid,
        done       boolean   NOT NULL DEFAULT false,
        CONSTRAINT pricing_rerate_lanes_pkey PRIMARY KEY (rerate_id, lane),
        CONSTRAINT pricing_rerate_lanes_rerate_id_fkey FOREIGN KEY (rerate_id) REFERENCES pricing_rerates (id)
          ON DELETE CASCADE
      )`);
    await q.query(`
      INSERT INTO pricing_rerate_lanes (rerate_id, lane, cursor_at, cursor_id, done)
      SELECT id, 0, cursor_at, cursor_id, status = 'completed' FROM pricing_rerates`);
    await q.query(`ALTER TABLE pricing_rerates DROP COLUMN cursor_at, DROP COLUMN cursor_id`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE pricing_rerates ADD COLUMN cursor_at timestamptz, ADD COLUMN cursor_id uuid`);
    // One lane's cursor is the re-rate's; a re-rate of several lanes has no one cursor and starts over
    // (its corrections already written answer again and move nothing).
    await q.query(`
      UPDATE pricing_rerates r SET cursor_at = l.cursor_at, cursor_id = l.cursor_id
        FROM pricing_rerate_lanes l WHERE l.rerate_id = r.id AND r.lanes = 1`);
    await q.query(`DROP TABLE pricing_rerate_lanes`);
    await q.query(`ALTER TABLE pricing_rerates DROP COLUMN lanes`);
  }
}
