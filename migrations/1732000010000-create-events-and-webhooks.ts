import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox and webhook delivery (docs/webhooks.md).
 *
 * `events` is written by `emit_event()` inside the transaction that causes the event, so a change that
 * rolls back leaves no event and a committed one always has its event. The same call fans the event
 * out to one `webhook_deliveries` row per active endpoint subscribed to its type (or to "*") and, when
 * it created any, NOTIFYs `webhook_deliveries`; PostgreSQL delivers a NOTIFY only at commit, so the
 * delivery workers wake up exactly when the rows become visible.
 *
 * A delivery is claimed by pushing its `next_attempt_at` forward (a lease) with FOR UPDATE SKIP LOCKED,
 * attempted outside any transaction, then its outcome is written if the row still carries the claim's
 * attempt number.
 */
export class CreateEventsAndWebhooks1732000010000 implements MigrationInterface {
  name = 'CreateEventsAndWebhooks1732000010000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE events (
        id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
        type       varchar(50) NOT NULL,
        user_id    varchar(50),
        data       jsonb       NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // GET /api/events: newest first by (created_at, id), optionally by type or user (scanned backwards).
    await q.query(`CREATE INDEX events_time_idx ON events (created_at, id)`);
    await q.query(`CREATE INDEX events_type_time_idx ON events (type, created_at, id)`);
    await q.query(`CREATE INDEX events_user_time_idx ON events (user_id, created_at, id)`);

    await q.query(`
      CREATE TABLE webhook_endpoints (
        id                         uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
        url                        varchar(2048) NOT NULL,
        events                     varchar(50)[] NOT NULL,
        description                varchar(500),
        is_active                  boolean       NOT NULL DEFAULT true,
        disabled_reason            varchar(500),
        -- AES-256-GCM of the whsec_ secret (see webhook-secrets.ts); never returned after creation.
        secret_encrypted           text          NOT NULL,
        -- The secret replaced by a rotation, still signed with until it expires.
        previous_secret_encrypted  text,
        previous_secret_expires_at timestamptz,
        -- Since when every attempt to this endpoint has failed (null after a success).
        failing_since              timestamptz,
        created_by                 varchar(50),
        created_at                 timestamptz   NOT NULL DEFAULT now(),
        updated_at                 timestamptz   NOT NULL DEFAULT now(),
        CONSTRAINT webhook_endpoints_events_check CHECK (cardinality(events) >= 1)
      )`);
    // emit_event()'s lookup: the active endpoints only.
    await q.query(`CREATE INDEX webhook_endpoints_active_idx ON webhook_endpoints (id) WHERE is_active`);

    await q.query(`
      CREATE TABLE webhook_deliveries (
        id               uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
        event_id         uuid         NOT NULL REFERENCES events (id) ON DELETE CASCADE,
        endpoint_id      uuid         NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
        status           varchar(20)  NOT NULL DEFAULT 'pending'
                         CONSTRAINT webhook_deliveries_status_check
                         CHECK (status IN ('pending', 'succeeded', 'failed')),
        attempts         integer      NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        -- Due time while pending (pushed forward by a claim: the lease); null once settled.
        next_attempt_at  timestamptz  DEFAULT now(),
        -- Start of the current retry window (creation, or a manual retry): failed 3 days after it.
        queued_at        timestamptz  NOT NULL DEFAULT now(),
        last_attempt_at  timestamptz,
        last_status_code integer,
        last_error       varchar(500),
        delivered_at     timestamptz,
        created_at       timestamptz  NOT NULL DEFAULT now(),
        CONSTRAINT webhook_deliveries_event_endpoint_key UNIQUE (event_id, endpoint_id),
        CONSTRAINT webhook_deliveries_due_check CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL))
      )`);
    // The workers' scan: pending deliveries, soonest first.
    await q.query(
      `CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`,
    );
    // An endpoint's deliveries log, newest first.
    await q.query(`CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at, id)`);

    await q.query(`
      CREATE FUNCTION emit_event(p_type varchar, p_user_id varchar, p_data jsonb) RETURNS uuid
      LANGUAGE plpgsql AS $$
      DECLARE
        v_id uuid;
        v_deliveries integer;
      BEGIN
        INSERT INTO events (type, user_id, data) VALUES (p_type, p_user_id, p_data) RETURNING id INTO v_id;
        INSERT INTO webhook_deliveries (event_id, endpoint_id)
          SELECT v_id, e.id FROM webhook_endpoints e
           WHERE e.is_active AND e.events && ARRAY[p_type, '*']::varchar[];
        GET DIAGNOSTICS v_deliveries = ROW_COUNT;
        -- Sent at commit only, and folded into one per transaction.
        IF v_deliveries > 0 THEN
          PERFORM pg_notify('webhook_deliveries', '');
        END IF;
        RETURN v_id;
      END
      $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION emit_event(varchar, varchar, jsonb)`);
    await q.query(`DROP TABLE webhook_deliveries`);
    await q.query(`DROP TABLE webhook_endpoints`);
    await q.query(`DROP TABLE events`);
  }
}
