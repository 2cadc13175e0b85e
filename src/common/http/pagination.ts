import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { IsOptional } from '../validation/optional.js';
import { DomainError } from '../errors/domain-error.js';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

/** `limit` + opaque `cursor` query parameters shared by every list route. */
export class PageQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT, example: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_LIMIT)
  limit?: number;

  @ApiPropertyOptional({
    description: 'Opaque cursor from a previous page’s nextCursor',
    example: 'eyJ0IjoiMjAyNi0xMS0yMVQxMjowMDowMC4wMDBaIiwiaWQiOiIxMjMifQ',
  })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  cursor?: string;
}

/**
 * SQL for a timestamptz sort key at full (microsecond) precision. A JS Date keeps milliseconds only,
 * so a cursor made from `row.created_at.toISOString()` sorts before the row it came from and the
 * next page repeats it: select this as the cursor's time instead.
 */
export function cursorTimestampSql(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/** A cursor's time as written by `cursorTimestampSql` (anything else would fail the SQL cast: a 500). */
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Refuses (400) a decoded cursor whose time is not `cursorTimestampSql`'s, or whose id must be and is not a UUID. */
export function checkCursor(after: { t: string; id: string | number }, idIsUuid = false): void {
  if (
    !CURSOR_TIME.test(String(after.t)) ||
    Number.isNaN(Date.parse(String(after.t))) ||
    (idIsUuid && !UUID.test(String(after.id)))
  ) {
    throw new DomainError('VALIDATION', 'cursor is not valid');
  }
}

/** Cursors are base64url JSON of the last row's sort key; opaque to clients. */
export function encodeCursor(key: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor<T extends Record<string, string | number>>(
  cursor: string | undefined,
  fields: (keyof T)[],
): T | null {
  if (!cursor) return null;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && fields.every((f) => ['string', 'number'].includes(typeof value[f])))
      return value as T;
  } catch {
    // fall through
  }
  throw new DomainError('VALIDATION', 'cursor is not valid');
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Given limit+1 fetched rows, cut to the page and derive the cursor from the last row kept. */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  map: (row: R) => T,
  keyOf: (row: R) => Record<string, string | number>,
): Page<T> {
  const hasMore = rows.length > limit;
  const kept = hasMore ? rows.slice(0, limit) : rows;
  return { items: kept.map(map), nextCursor: hasMore ? encodeCursor(keyOf(kept[kept.length - 1])) : null };
}
