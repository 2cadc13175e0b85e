import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

import { cursorTimestampSql } from '../common/http/pagination.js';
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

/** events: the outbox (written by emit_event(), migration 1732000010000) and its newest-first list. */
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

  async list(filter: EventsFilter, limit: number): Promise<EventSqlRow[]> {
    const params: unknown[] = [];
    const where: string[] = [];
    if (filter.type !== undefined) {
      params.push(filter.type);
      where.push(`e.type = $${params.length}`);
    }
    if (filter.userId !== undefined) {
      params.push(filter.userId);
      where.push(`e.user_id = $${params.length}`);
    }
    if (filter.after) {
      params.push(filter.after.t, filter.after.id);
      where.push(`(e.created_at, e.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(limit + 1);
    return this.dataSource.query(
      `SELECT e.id, e.type, ${EVENT_CREATED_AT_SQL} AS created_at, e.data, ${cursorTimestampSql('e.created_at')} AS t_key
         FROM events e
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY e.created_at DESC, e.id DESC
        LIMIT $${params.length}`,
      params,
    );
  }
}
