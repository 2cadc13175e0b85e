import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

import type { Role } from '../auth/roles.js';
import { NotFoundError } from '../common/errors/domain-error.js';
import { cursorTimestampSql, decodeTimeCursor, DEFAULT_LIMIT, type Page, toPage } from '../common/http/pagination.js';
import { availableCreditsSql } from '../credits/credits.sql.js';
import type { UserResponseDto } from './dto/user.dto.js';

interface UserRow {
  user_id: string;
  email: string | null;
  username: string | null;
  role: Role;
  created_at: Date;
  total_credits: number;
  cursor_t?: string;
}

// Available credits: unexpired allocations' remaining (held credits are already out of them).
const TOTAL_CREDITS_SQL = availableCreditsSql('u.user_id');

function toDto(row: UserRow): UserResponseDto {
  return {
    userId: row.user_id,
    email: row.email,
    username: row.username,
    role: row.role,
    createdAt: row.created_at.toISOString(),
    totalCredits: Number(row.total_credits),
  };
}

@Injectable()
export class UsersService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async get(userId: string): Promise<UserResponseDto> {
    const rows: UserRow[] = await this.dataSource.query(
      `SELECT u.user_id, u.email, u.username, u.role, u.created_at, ${TOTAL_CREDITS_SQL} AS total_credits
         FROM user_accounts u WHERE u.user_id = $1`,
      [userId],
    );
    if (rows.length === 0) throw new NotFoundError('User');
    return toDto(rows[0]);
  }

  async list(query: { search?: string; limit?: number; cursor?: string }): Promise<Page<UserResponseDto>> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = decodeTimeCursor(query.cursor, 'text');
    const params: unknown[] = [];
    const where: string[] = [];
    if (query.search) {
      params.push(`%${query.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      where.push(
        `(u.user_id ILIKE $${params.length} OR u.email ILIKE $${params.length} OR u.username ILIKE $${params.length})`,
      );
    }
    if (after) {
      params.push(after.t, after.id);
      where.push(`(u.created_at, u.user_id) > ($${params.length - 1}::timestamptz, $${params.length})`);
    }
    params.push(limit + 1);
    const rows: UserRow[] = await this.dataSource.query(
      `SELECT u.user_id, u.email, u.username, u.role, u.created_at, ${TOTAL_CREDITS_SQL} AS total_credits,
              ${cursorTimestampSql('u.created_at')} AS cursor_t
         FROM user_accounts u
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY u.created_at, u.user_id
        LIMIT $${params.length}`,
      params,
    );
    return toPage(rows, limit, toDto, (r) => ({ t: r.cursor_t!, id: r.user_id }));
  }
}
