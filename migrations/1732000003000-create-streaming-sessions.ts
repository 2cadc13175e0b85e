import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Streaming sessions: a hold taken when a chat stream starts, settled exactly once when it ends
 * (finalize / abort) or when it is abandoned (expiry job). The credits held and given back are in
 * the credit ledger (kinds `hold` / `release`, with `session_id`); this table keeps the session's
 * state and what its settlement charged, refunded and could not collect.
 */
export class CreateStreamingSessions1732000003000 implements MigrationInterface {
  name = 'CreateStreamingSessions1732000003000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE streaming_sessions (
        session_id        varchar(100) PRIMARY KEY,
        user_id           varchar(50)  NOT NULL REFERENCES user_accounts (user_id),
        model_id          varchar(100) NOT NULL,
        estimated_tokens  integer      NOT NULL CHECK (estimated_tokens >= 0),
        estimated_credits integer      NOT NULL CHECK (estimated_credits >= 0),
        allocated_credits integer      NOT NULL,
        status            varchar(20)  NOT NULL DEFAULT 'active'
                          CONSTRAINT streaming_sessions_status_check
                          CHECK (status IN ('active', 'completed', 'failed', 'aborted', 'expired')),
        started_at        timestamptz  NOT NULL DEFAULT now(),
        expires_at        timestamptz  NOT NULL,
        settled_at        timestamptz,
        actual_tokens     integer      CHECK (actual_tokens >= 0),
        actual_credits    integer      CHECK (actual_credits >= 0),
        refund            integer      CHECK (refund >= 0),
        shortfall         integer      CHECK (shortfall >= 0),
        usage_record_id   uuid,
        pricing_rule_id   uuid,
        settlement        jsonb,
        CONSTRAINT streaming_sessions_allocated_check CHECK (allocated_credits >= estimated_credits),
        CONSTRAINT streaming_sessions_expiry_check CHECK (expires_at > started_at),
        -- An active session has no settlement; a settled one has all of it.
        CONSTRAINT streaming_sessions_settled_check CHECK (
          (status = 'active' AND settled_at IS NULL AND actual_credits IS NULL AND refund IS NULL
             AND shortfall IS NULL AND usage_record_id IS NULL)
          OR (status <> 'active' AND settled_at IS NOT NULL AND actual_credits IS NOT NULL
             AND refund IS NOT NULL AND shortfall IS NOT NULL AND usage_record_id IS NOT NULL)
        ),
        CONSTRAINT streaming_sessions_refund_within_hold_check CHECK (refund <= allocated_credits)
      )`);
    // The expiry job's scan: only active sessions, soonest expiry first.
    await q.query(`
      CREATE INDEX streaming_sessions_expiry_idx ON streaming_sessions (expires_at)
        WHERE status = 'active'`);
    await q.query(
      `CREATE INDEX streaming_sessions_user_status_idx ON streaming_sessions (user_id, status, started_at)`,
    );
    await q.query(
      `CREATE INDEX streaming_sessions_active_idx ON streaming_sessions (started_at, session_id) WHERE status = 'active'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE streaming_sessions`);
  }
}
