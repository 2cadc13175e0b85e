import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The roll-forward's day sums (docs/finance.md "The sums by day"): `credit_ledger_days` holds, per
 * UTC day the roll-forward books a line on, currency ('' for promotional lines) and finance category
 * ('' for the freeze and unfreeze lines, the disputed money), the sums of money and credits of the
 * ledger lines it covers; `credit_ledger_days_filled` (one row) says which: every line whose
 * `created_xid` is below `up_to_xid` (or has none) and whose id is at most `up_to_id`. Those lines'
 * transactions had all ended when the sums were taken, so the set can never change, whenever the lines
 * are booked: a report adds the sums to the lines outside the set, read live. Empty (0, 0) until it is
 * first filled (the `credit-ledger-days` job, or the first roll-forward that sums every account).
 */
export class CreditLedgerDays1732000930000 implements MigrationInterface {
  name = 'CreditLedgerDays1732000930000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE credit_ledger_days (
        currency varchar(3) NOT NULL,
        day date NOT NULL,
        category varchar(20) NOT NULL,
        value_minor bigint NOT NULL,
        credits bigint NOT NULL,
        CONSTRAINT credit_ledger_days_pkey PRIMARY KEY (currency, day, category)
      )`);
    await q.query(`
      CREATE TABLE credit_ledger_days_filled (
        id smallint NOT NULL,
        up_to_xid bigint NOT NULL,
        up_to_id bigint NOT NULL,
        filled_at timestamptz,
        CONSTRAINT credit_ledger_days_filled_pkey PRIMARY KEY (id),
        CONSTRAINT credit_ledger_days_filled_one_check CHECK (id = 1)
      )`);
    await q.query(`INSERT INTO credit_ledger_days_filled (id, up_to_xid, up_to_id) VALUES (1, 0, 0)`);
    // The lines outside the cover are found by the BRIN on created_xid; a block range it has not
    // summarized yet is read whole by every such read, and without this only a VACUUM summarizes
    // (on a busy ledger, hundreds of thousands of lines later). With it, autovacuum summarizes each
    // range as soon as it is full.
    await q.query(`ALTER INDEX credit_ledger_created_xid_brin SET (autosummarize = on)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER INDEX credit_ledger_created_xid_brin RESET (autosummarize)`);
    await q.query(`DROP TABLE credit_ledger_days_filled`);
    await q.query(`DROP TABLE credit_ledger_days`);
  }
}
