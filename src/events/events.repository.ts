import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

import { EMAIL_RE, type ErasedPerson, erasureParams, NAME_RE } from '../common/erasure.js';
import { cursorTimestampSql } from '../common/http/pagination.js';
import { SqlFilter } from '../database/sql-filter.js';
import type { EventType, EventView } from './event-types.js';

/** The event JSON's `createdAt`: ISO-8601 UTC with milliseconds, derived the same way every time. */
export const EVENT_CREATED_AT_SQL = `to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

export interface EventsFilter {
  type?: string;
  userId?: string;
  after: { t: string; id: string } | null;
}

export interface EventSqlRow {
  id: string;
  type: EventType;
  created_at: string;
  data: EventView['data'];
  t_key: string;
}

export function toEventView(r: EventSqlRow): EventView {
  return { id: r.id, type: r.type, createdAt: r.created_at, data: r.data };
}

/** An event none of whose deliveries is pending: deliveries only read it while pending. */
const NO_PENDING_DELIVERY = `NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id AND d.status = 'pending')`;

/**
 * events: the outbox (written by emit_event(), migration 1732000010000), its newest-first list and
 * its retention.
 */
@Injectable()
export class EventsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Inserts the event and its deliveries on `manager`, i.e. in the caller's transaction. */
  async emit(manager: EntityManager, type: EventType, userId: string | null, data: object): Promise<string> {
    const rows: { id: string }[] = await manager.query(`SELECT emit_event($1, $2, $3::jsonb) AS id`, [
      type,
      userId,
      JSON.stringify(data),
    ]);
    return rows[0].id;
  }

  /**
   * An erasure (docs/erasure.md): the person's own events (`user_id`, indexed) lose the email and the
   * username (erase_json()), so no webhook payload still to deliver carries them; other accounts'
   * events are never read. Answers how many changed.
   */
  async erase(manager: EntityManager, person: ErasedPerson): Promise<number> {
    const rows: unknown[] = await manager.query(
      `WITH erased AS (
         SELECT id, erase_json(data, ${EMAIL_RE}, ${NAME_RE}, false) AS data FROM events WHERE user_id = $1)
       UPDATE events e SET data = erased.data FROM erased
        WHERE e.id = erased.id AND e.data IS DISTINCT FROM erased.data
       RETURNING e.id`,
      erasureParams(person),
    );
    return rows.length;
  }

  async list(filter: EventsFilter, limit: number): Promise<EventSqlRow[]> {
    const where = new SqlFilter()
      .equal('e.type', filter.type)
      .equal('e.user_id', filter.userId)
      .before('e.created_at', 'e.id', filter.after);
    return this.dataSource.query(
      `SELECT e.id, e.type, ${EVENT_CREATED_AT_SQL} AS created_at, e.data, ${cursorTimestampSql('e.created_at')} AS t_key
         FROM events e
        ${where.clause}
        ORDER BY e.created_at DESC, e.id DESC
        LIMIT ${where.param(limit + 1)}`,
      where.params,
    );
  }

  /**
   * Locks up to `batch` of the oldest events older than `days` days that no pending delivery needs.
   * SKIP LOCKED: rows another instance is deleting are left to it, so several instances share the
   * work instead of waiting on each other. Run in the transaction that deletes them.
   */
  async lockExpired(manager: EntityManager, days: number, batch: number): Promise<string[]> {
    const rows: { id: string }[] = await manager.query(
      `SELECT e.id FROM events e
        WHERE e.created_at < now() - make_interval(days => $1) AND ${NO_PENDING_DELIVERY}
        ORDER BY e.created_at
        LIMIT $2
          FOR UPDATE SKIP LOCKED`,
      [days, batch],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Deletes the locked events with their deliveries (the foreign key cascades). A statement of its
   * own, so it reads the deliveries afresh: one queued again by a retry since the lock is pending now
   * and keeps its event (a retry locks the event first, so none can start until this commits).
   */
  async deleteLocked(manager: EntityManager, ids: string[]): Promise<number> {
    const rows: { n: number }[] = await manager.query(
      `WITH gone AS (DELETE FROM events e WHERE e.id = ANY($1::uuid[]) AND ${NO_PENDING_DELIVERY} RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [ids],
    );
    return rows[0].n;
  }
}
