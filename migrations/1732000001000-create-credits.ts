import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Expiring credit allocations, the append-only ledger that explains every change of their
 * `remaining_credits`, and the outstanding holds of streaming sessions.
 */
export class CreateCredits1732000001000 implements MigrationInterface {
  name = 'CreateCredits1732000001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE credit_allocations (
        id                uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id           varchar(50)  NOT NULL REFERENCES user_accounts (user_id),
        total_credits     integer      NOT NULL CONSTRAINT credit_allocations_total_check CHECK (total_credits >= 1),
        remaining_credits integer      NOT NULL,
        allocated_by      varchar(50)  NOT NULL,
        allocated_at      timestamptz  NOT NULL DEFAULT now(),
        expires_at        timestamptz  NOT NULL,
        notes             text,
        voided_at         timestamptz,
        voided_by         varchar(50),
        void_reason       text,
        CONSTRAINT credit_allocations_remaining_check
          CHECK (0 <= remaining_credits AND remaining_credits <= total_credits)
      )`);
    await q.query(`CREATE INDEX credit_allocations_user_expiry_idx ON credit_allocations (user_id, expires_at)`);
    // The expiry job looks for expired allocations that still hold credits.
    await q.query(
      `CREATE INDEX credit_allocations_due_idx ON credit_allocations (expires_at) WHERE remaining_credits > 0`,
    );

    await q.query(`
      CREATE TABLE credit_ledger (
        id              bigserial    PRIMARY KEY,
        user_id         varchar(50)  NOT NULL,
        allocation_id   uuid         NOT NULL REFERENCES credit_allocations (id),
        kind            varchar(10)  NOT NULL
                        CONSTRAINT credit_ledger_kind_check
                        CHECK (kind IN ('grant', 'debit', 'hold', 'release', 'expire', 'void')),
        amount          integer      NOT NULL,
        balance_after   bigint       NOT NULL,
        session_id      varchar(100),
        usage_record_id uuid,
        created_by      varchar(50)  NOT NULL,
        created_at      timestamptz  NOT NULL DEFAULT now(),
        CONSTRAINT credit_ledger_sign_check CHECK (
          (kind IN ('grant', 'release') AND amount >= 0) OR (kind NOT IN ('grant', 'release') AND amount <= 0))
      )`);
    await q.query(`CREATE INDEX credit_ledger_user_idx ON credit_ledger (user_id, id DESC)`);
    await q.query(`CREATE INDEX credit_ledger_allocation_idx ON credit_ledger (allocation_id)`);
    await q.query(`CREATE INDEX credit_ledger_session_idx ON credit_ledger (session_id) WHERE session_id IS NOT NULL`);
    await q.query(
      `CREATE INDEX credit_ledger_usage_idx ON credit_ledger (usage_record_id) WHERE usage_record_id IS NOT NULL`,
    );
    // Append-only: history is corrected by new entries, never rewritten.
    await q.query(`
      CREATE FUNCTION credit_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'credit_ledger is append-only (% refused)', TG_OP;
      END $$`);
    await q.query(`
      CREATE TRIGGER credit_ledger_append_only BEFORE UPDATE OR DELETE ON credit_ledger
      FOR EACH ROW EXECUTE FUNCTION credit_ledger_append_only()`);

    // One row per streaming session's hold: what is still held (O(1) heldCredits) and whether the
    // hold was settled. Which allocation each held credit came from is in the ledger (hold/release).
    await q.query(`
      CREATE TABLE credit_holds (
        session_id  varchar(100) PRIMARY KEY,
        user_id     varchar(50)  NOT NULL REFERENCES user_accounts (user_id),
        outstanding integer      NOT NULL CONSTRAINT credit_holds_outstanding_check CHECK (outstanding >= 0),
        created_at  timestamptz  NOT NULL DEFAULT now(),
        settled_at  timestamptz
      )`);
    await q.query(`CREATE INDEX credit_holds_user_idx ON credit_holds (user_id) WHERE settled_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE credit_holds`);
    await q.query(`DROP TABLE credit_ledger`);
    await q.query(`DROP FUNCTION credit_ledger_append_only()`);
    await q.query(`DROP TABLE credit_allocations`);
  }
}
