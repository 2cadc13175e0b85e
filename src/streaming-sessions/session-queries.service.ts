import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

import { NotFoundError } from '../common/errors/domain-error.js';
import { cursorTimestampSql, decodeTimeCursor, DEFAULT_LIMIT, type Page, toPage } from '../common/http/pagination.js';
import type { SessionResponseDto } from './dto/session-responses.dto.js';
import { SESSION_COLUMNS, type SessionRow, toSessionDto } from './session-rows.js';

/** Active sessions for the list routes, oldest first. */
@Injectable()
export class SessionQueriesService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async listActive(query: { userId?: string; limit?: number; cursor?: string }): Promise<Page<SessionResponseDto>> {
    if (query.userId !== undefined) {
      const known = await this.dataSource.query(`SELECT 1 FROM user_accounts WHERE user_id = $1`, [query.userId]);
      if (known.length === 0) throw new NotFoundError('User');
    }
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = decodeTimeCursor(query.cursor, 'text');
    const params: unknown[] = [];
    const where = [`status = 'active'`];
    if (query.userId !== undefined) {
      params.push(query.userId);
      where.push(`user_id = $${params.length}`);
    }
    if (after) {
      params.push(after.t, after.id);
      where.push(`(started_at, session_id) > ($${params.length - 1}::timestamptz, $${params.length})`);
    }
    params.push(limit + 1);
    // The cursor keeps microseconds (a JS Date would round them and repeat rows across pages).
    const rows: (SessionRow & { cursor_t: string })[] = await this.dataSource.query(
      `SELECT ${SESSION_COLUMNS}, ${cursorTimestampSql('started_at')} AS cursor_t FROM streaming_sessions
        WHERE ${where.join(' AND ')}
        ORDER BY started_at, session_id
        LIMIT $${params.length}`,
      params,
    );
    return toPage(rows, limit, toSessionDto, (r) => ({ t: r.cursor_t, id: r.session_id }));
  }
}
