import type { Type } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';

import { DomainError } from '../errors/domain-error.js';
import { parseInstant } from '../validation/dates.js';
import { isUuid } from '../validation/ids.js';
import { ApiIntegerOptional, QueryInteger } from '../validation/integers.js';
import { IsOptional } from '../validation/optional.js';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

/** `limit` + opaque `cursor` query parameters shared by every list route. */
export class PageQueryDto {
  @ApiIntegerOptional({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT, example: 50 })
  @IsOptional()
  @QueryInteger({ min: 1, max: MAX_LIMIT })
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

/** A cursor's time as written by `cursorTimestampSql`. */
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const BIGINT = /^\d{1,19}$/;
const MAX_BIGINT = 9_223_372_036_854_775_807n;

/** What a cursor's id must be so the SQL cast cannot fail: a uuid, a bigint, or text of a text key. */
export type CursorId = 'uuid' | 'bigint' | 'text';

function validId(id: unknown, kind: CursorId): id is string {
  if (typeof id !== 'string') return false;
  if (kind === 'uuid') return isUuid(id);
  if (kind === 'bigint') return BIGINT.test(id) && BigInt(id) <= MAX_BIGINT;
  return id.length <= 200 && id.isWellFormed() && !id.includes('\0');
}

/** Cursors are base64url JSON of the last row's sort key; opaque to clients. */
export function encodeCursor(key: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decode(cursor: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new DomainError('VALIDATION', 'cursor is not valid');
}

/**
 * The one cursor codec for keyset pages ordered by a timestamp and an id. A cursor is the client's
 * input like any other: its time must be a real instant PostgreSQL holds (calendar and range
 * checked, not just the format) and its id must fit the column, or it is a 400, never a SQL error.
 */
export function decodeTimeCursor(
  cursor: string | undefined,
  id: Exclude<CursorId, 'bigint'>,
  tag?: string,
): { t: string; id: string } | null {
  if (!cursor) return null;
  const value = decode(cursor);
  if (
    value.s === tag &&
    typeof value.t === 'string' &&
    CURSOR_TIME.test(value.t) &&
    parseInstant(value.t) &&
    validId(value.id, id)
  )
    return { t: value.t, id: value.id };
  throw new DomainError('VALIDATION', 'cursor is not valid');
}

/**
 * The codec for pages ordered by a non-negative bigint (a balance, a debt) and an id. `tag` names
 * the order the cursor was made for (`s` in the cursor), so a cursor of another order is a 400
 * rather than a page of the wrong rows.
 */
export function decodeCountCursor(
  cursor: string | undefined,
  id: Exclude<CursorId, 'bigint'>,
  tag?: string,
): { n: string; id: string } | null {
  if (!cursor) return null;
  const value = decode(cursor);
  if (value.s === tag && validId(value.n, 'bigint') && validId(value.id, id)) return { n: value.n, id: value.id };
  throw new DomainError('VALIDATION', 'cursor is not valid');
}

/** The codec for pages ordered by an id alone (the ledger's bigint, a plan's text id). */
export function decodeIdCursor(cursor: string | undefined, kind: CursorId = 'bigint'): { id: string } | null {
  if (!cursor) return null;
  const value = decode(cursor);
  if (validId(value.id, kind)) return { id: value.id };
  throw new DomainError('VALIDATION', 'cursor is not valid');
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * The answer of a list route, a page of `item`: a list DTO is `class XListResponseDto extends
 * PageResponseDto(XResponseDto) {}`, documented under its own name with these two properties.
 */
export function PageResponseDto<T>(item: Type<T>) {
  abstract class PageOfItems implements Page<T> {
    @ApiProperty({ type: [item] })
    items: T[];

    @ApiProperty({ type: String, nullable: true, example: null })
    nextCursor: string | null;
  }
  return PageOfItems;
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
