import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

import { cursorTimestampSql } from '../../common/http/pagination.js';
import { recordNetFigure } from '../record-net.js';

/** A usage record as the review queue shows it. */
export interface ReviewRow {
  id: string;
  user_id: string;
  /** The organisation that paid the record (its account), null: the user's own. */
  org_id: string | null;
  timestamp: Date;
  cursor_t: string;
  service: string;
  operation: string;
  credits: number;
  shortfall: number;
  review_status: 'open' | 'resolved';
  resolution: 'write_off' | 'collect' | null;
  resolved_by: string | null;
  resolved_at: Date | null;
  resolution_note: string | null;
  usage_source: 'provider' | 'reported' | 'estimated';
  termination: 'completed' | 'max_tokens' | 'client_abort' | 'upstream_error' | null;
}

/**
 * The review's columns of `from` (the records, or the row usage_record_resolve() answers); the
 * shortfall as its corrections moved it (docs/usage.md "Corrections").
 */
const reviewColumns = (
  from: string,
) => `id, user_id, org_id, "timestamp", ${cursorTimestampSql('"timestamp"')} AS cursor_t, service, operation,
  credits, ${recordNetFigure(from, 'review')} AS shortfall,
  review_status, resolution, resolved_by, resolved_at, resolution_note, usage_source, termination`;
const REVIEW_COLUMNS = reviewColumns('usage_records');

/** usage_records' review queue: shortfalls waiting for a person, and their resolution. */
@Injectable()
export class UsageReviewRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Records with the review status, newest first, keyset-paged on ("timestamp", id). */
  async page(query: {
    status: 'open' | 'resolved';
    after: { t: string; id: string } | null;
    limit: number;
  }): Promise<ReviewRow[]> {
    const params: unknown[] = [query.status];
    let keyset = '';
    if (query.after) {
      params.push(query.after.t, query.after.id);
      keyset = `AND ("timestamp", id) < ($2::timestamptz, $3::uuid)`;
    }
    params.push(query.limit);
    return this.dataSource.query(
      `SELECT ${REVIEW_COLUMNS} FROM usage_records WHERE review_status = $1 ${keyset}
        ORDER BY "timestamp" DESC, id DESC LIMIT $${params.length}`,
      params,
    );
  }

  async lock(manager: EntityManager, id: string): Promise<(ReviewRow & { account_id: string }) | null> {
    const rows: (ReviewRow & { account_id: string })[] = await manager.query(
      `SELECT ${REVIEW_COLUMNS}, account_id FROM usage_records WHERE id = $1 FOR UPDATE OF usage_records`,
      [id],
    );
    return rows[0] ?? null;
  }

  /**
   * Marks the record resolved; a collect adds what it collected to the record's credits, through
   * usage_record_resolve(): the service's role may not update a record's credits itself.
   */
  async resolve(
    manager: EntityManager,
    id: string,
    resolution: { action: 'write_off' | 'collect'; by: string; note: string | null; collected: number },
  ): Promise<ReviewRow> {
    const rows: ReviewRow[] = await manager.query(
      `SELECT ${reviewColumns('r')} FROM usage_record_resolve($1, $2, $3, $4, $5) r`,
      [id, resolution.action, resolution.by, resolution.note, resolution.collected],
    );
    if (!rows[0]) throw new Error(`usage record ${id} had no open review to resolve`);
    return rows[0];
  }
}
