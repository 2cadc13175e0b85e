import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

import { cursorTimestampSql } from '../common/http/pagination.js';
import { CLAIM_STILL_OWN, claimDueCtes } from '../database/outbox/outbox-claim.js';
import type { DeliveryStatus } from './entities/webhook-delivery.entity.js';
import type { EventType } from './event-types.js';
import { EVENT_CREATED_AT_SQL } from './events.repository.js';

/** The channel emit_event() notifies at commit when it queued deliveries. */
export const DELIVERY_CHANNEL = 'webhook_deliveries';

/** A delivery claimed for one attempt, with what the attempt needs. */
export interface ClaimedDelivery {
  id: string;
  /** This attempt's number; the outcome is written only while the row still has it. */
  attempts: number;
  queuedAt: Date;
  eventId: string;
  endpointId: string;
  endpointActive: boolean;
  url: string;
  secretEncrypted: string;
  previousSecretEncrypted: string | null;
  previousSecretExpiresAt: Date | null;
  /** The event JSON, the same bytes on every attempt (derived from the stored row). */
  body: string;
}

interface ClaimSqlRow {
  id: string;
  attempts: number;
  queued_at: Date;
  event_id: string;
  type: string;
  created_at: string;
  data: string;
  endpoint_id: string;
  is_active: boolean;
  url: string;
  secret_encrypted: string;
  previous_secret_encrypted: string | null;
  previous_secret_expires_at: Date | null;
}

/** `{id, type, createdAt, data}` written out by hand so `data` keeps the database's exact text. */
export function eventBody(id: string, type: string, createdAt: string, dataJson: string): string {
  return `{"id":${JSON.stringify(id)},"type":${JSON.stringify(type)},"createdAt":${JSON.stringify(createdAt)},"data":${dataJson}}`;
}

export interface DeliverySqlRow {
  id: string;
  event_id: string;
  endpoint_id: string;
  type: EventType;
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: Date | null;
  created_at: Date;
  delivered_at: Date | null;
  t_key: string;
}

/** webhook_deliveries: claims, outcomes, the log, retries and the test event. */
@Injectable()
export class WebhookDeliveriesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The deliveries waiting to be sent: the pending deliveries gauge of /metrics. */
  async countPending(): Promise<number> {
    const [row]: { n: string }[] = await this.dataSource.query(
      `SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'pending'`,
    );
    return Number(row.n);
  }

  /**
   * Claims up to `limit` due deliveries for one attempt each, under a lease of `leaseMs` (the outbox
   * core's claim, `claimDueCtes()`), with what the attempt sends.
   */
  async claimDue(now: Date, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    const rows: ClaimSqlRow[] = await this.dataSource.query(
      `${claimDueCtes('webhook_deliveries', 'o.id, o.attempts, o.queued_at, o.event_id, o.endpoint_id', [
        // The retry window starts with the first attempt (a manual retry starts a new one).
        'queued_at = CASE WHEN o.attempts = 0 THEN $1 ELSE o.queued_at END',
        'last_attempt_at = $1',
      ])}
       SELECT c.id, c.attempts, c.queued_at, c.event_id, e.type, ${EVENT_CREATED_AT_SQL} AS created_at,
              e.data::text AS data, c.endpoint_id, w.is_active, w.url, w.secret_encrypted,
              w.previous_secret_encrypted, w.previous_secret_expires_at
         FROM claimed c
         JOIN events e ON e.id = c.event_id
         JOIN webhook_endpoints w ON w.id = c.endpoint_id`,
      [now, limit, leaseMs],
    );
    return rows.map((r) => ({
      id: r.id,
      attempts: r.attempts,
      queuedAt: r.queued_at,
      eventId: r.event_id,
      endpointId: r.endpoint_id,
      endpointActive: r.is_active,
      url: r.url,
      secretEncrypted: r.secret_encrypted,
      previousSecretEncrypted: r.previous_secret_encrypted,
      previousSecretExpiresAt: r.previous_secret_expires_at,
      body: eventBody(r.event_id, r.type, r.created_at, r.data),
    }));
  }

  /** Success: the delivery is done and its endpoint is no longer failing. */
  async recordSuccess(claim: ClaimedDelivery, now: Date, statusCode: number): Promise<void> {
    await this.dataSource.query(
      `WITH d AS (
         UPDATE webhook_deliveries
            SET status = 'succeeded', next_attempt_at = NULL, delivered_at = $3, last_status_code = $4,
                last_error = NULL
          WHERE ${CLAIM_STILL_OWN}
         RETURNING endpoint_id)
       UPDATE webhook_endpoints w SET failing_since = NULL
         FROM d WHERE w.id = d.endpoint_id AND w.failing_since IS NOT NULL`,
      [claim.id, claim.attempts, now, statusCode],
    );
  }

  /**
   * Failure: retried at `nextAttemptAt`, or `failed` when it is null. Marks the endpoint failing since
   * `attemptedAt` (when this attempt started) unless it already was; answers since when it has been
   * failing (null: the claim was stale).
   */
  async recordFailure(
    claim: ClaimedDelivery,
    attemptedAt: Date,
    outcome: { statusCode: number | null; error: string | null },
    nextAttemptAt: Date | null,
  ): Promise<{ failingSince: Date; isActive: boolean } | null> {
    // An UPDATE answers [rows, rowCount] through TypeORM.
    const [rows]: [{ failing_since: Date; is_active: boolean }[], number] = await this.dataSource.query(
      `WITH d AS (
         UPDATE webhook_deliveries
            SET status = CASE WHEN $5::timestamptz IS NULL THEN 'failed' ELSE 'pending' END,
                next_attempt_at = $5, last_status_code = $3, last_error = left($4, 500)
          WHERE ${CLAIM_STILL_OWN}
         RETURNING endpoint_id)
       UPDATE webhook_endpoints w SET failing_since = COALESCE(w.failing_since, $6)
         FROM d WHERE w.id = d.endpoint_id
       RETURNING w.failing_since, w.is_active`,
      [claim.id, claim.attempts, outcome.statusCode, outcome.error, nextAttemptAt, attemptedAt],
    );
    return rows[0] ? { failingSince: rows[0].failing_since, isActive: rows[0].is_active } : null;
  }

  /** Every pending delivery of an endpoint becomes `failed` with `reason` (the endpoint was disabled). */
  async failPendingOfEndpoint(manager: EntityManager, endpointId: string, reason: string): Promise<void> {
    await manager.query(
      `UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, last_error = left($2, 500)
        WHERE endpoint_id = $1 AND status = 'pending'`,
      [endpointId, reason],
    );
  }

  /**
   * Queues a finished delivery (failed or succeeded) again with a fresh retry window: the same event,
   * so the same webhook-id and body. False when it is not finished.
   */
  async requeue(manager: EntityManager, id: string, now: Date): Promise<boolean> {
    const [rows]: [unknown[], number] = await manager.query(
      `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $2, queued_at = $2
        WHERE id = $1 AND status IN ('failed', 'succeeded')
       RETURNING id`,
      [id, now],
    );
    if (rows.length > 0) await this.notify(manager);
    return rows.length > 0;
  }

  /**
   * The delivery, locked for a change of status, and its event first (KEY SHARE): the retention job
   * locks events before their deliveries go, so the two never wait on each other in a cycle, and a
   * delivery queued again here keeps its event (the job skips a locked event and keeps one with a
   * pending delivery). A delivery whose event the job has just deleted is not found.
   */
  async find(
    manager: EntityManager,
    id: string,
  ): Promise<{ status: DeliveryStatus; endpoint_id: string; event_id: string; is_active: boolean } | null> {
    await manager.query(
      `SELECT 1 FROM events e WHERE e.id = (SELECT d.event_id FROM webhook_deliveries d WHERE d.id = $1) FOR KEY SHARE`,
      [id],
    );
    const rows: { status: DeliveryStatus; endpoint_id: string; event_id: string; is_active: boolean }[] =
      await manager.query(
        `SELECT d.status, d.endpoint_id, d.event_id, w.is_active
         FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id
        WHERE d.id = $1
          FOR UPDATE OF d`,
        [id],
      );
    return rows[0] ?? null;
  }

  /**
   * The `webhook.test` event: written like any event, but queued for this endpoint only. Returns the
   * event id.
   */
  async emitTestEvent(manager: EntityManager, endpointId: string): Promise<string> {
    const rows: { id: string }[] = await manager.query(
      `WITH e AS (
         INSERT INTO events (type, user_id, data) VALUES ('webhook.test', NULL, jsonb_build_object('webhookId', $1::uuid::text))
         RETURNING id)
       INSERT INTO webhook_deliveries (event_id, endpoint_id) SELECT e.id, $1::uuid FROM e
       RETURNING event_id AS id`,
      [endpointId],
    );
    await this.notify(manager);
    return rows[0].id;
  }

  private async notify(manager: EntityManager): Promise<void> {
    await manager.query(`SELECT pg_notify($1, '')`, [DELIVERY_CHANNEL]);
  }

  /** An endpoint's deliveries, newest first. */
  async listForEndpoint(
    endpointId: string,
    filter: { status?: DeliveryStatus; after: { t: string; id: string } | null },
    limit: number,
  ): Promise<DeliverySqlRow[]> {
    const params: unknown[] = [endpointId];
    const where = ['d.endpoint_id = $1'];
    if (filter.status) {
      params.push(filter.status);
      where.push(`d.status = $${params.length}`);
    }
    if (filter.after) {
      params.push(filter.after.t, filter.after.id);
      where.push(`(d.created_at, d.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(limit + 1);
    return this.dataSource.query(
      `SELECT d.id, d.event_id, d.endpoint_id, e.type, d.status, d.attempts, d.last_status_code, d.last_error,
              d.next_attempt_at, d.created_at, d.delivered_at, ${cursorTimestampSql('d.created_at')} AS t_key
         FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
        WHERE ${where.join(' AND ')}
        ORDER BY d.created_at DESC, d.id DESC
        LIMIT $${params.length}`,
      params,
    );
  }
}
