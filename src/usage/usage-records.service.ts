import { Readable } from 'node:stream';

import { Injectable } from '@nestjs/common';

import { assertMayAccessUser, mayAccessUser } from '../auth/access.js';
import type { AuthUser } from '../auth/roles.js';
import { decodeTimeCursor, DEFAULT_LIMIT, type Page, toPage } from '../common/http/pagination.js';
import type { UsageRecordResponseDto } from './dto/record-usage.dto.js';
import { csvCell, csvLine } from './usage-csv.js';
import { parseDateRange } from './usage-dates.js';
import {
  type RecordsFilter,
  type RecordSqlRow,
  toRecordDto,
  toRow,
  UsageRecordsRepository,
} from './usage-records.repository.js';

/** The filters of GET /api/usage/records (JSON and CSV alike). */
interface RecordsQuery {
  userId?: string;
  service?: string;
  startDate?: string;
  endDate?: string;
  cursor?: string;
}

const CSV_COLUMNS = [
  'id',
  'userId',
  'timestamp',
  'service',
  'operation',
  'credits',
  'modelId',
  'tokens',
  'inputTokens',
  'outputTokens',
  'billingStatus',
  'metadata',
];
const CSV_BATCH = 1000;

function csvRow(r: RecordSqlRow): string {
  return csvLine([
    csvCell(r.id, false),
    csvCell(r.user_id),
    csvCell(r.timestamp.toISOString(), false),
    csvCell(r.service),
    csvCell(r.operation),
    csvCell(r.credits, false),
    csvCell(r.model_id),
    csvCell(r.tokens, false),
    csvCell(r.input_tokens, false),
    csvCell(r.output_tokens, false),
    csvCell(r.billing_status, false),
    csvCell(r.metadata),
  ]);
}

/** Reading records back: the JSON list and the CSV export, with one filter for both. */
@Injectable()
export class UsageRecordsService {
  constructor(private readonly records: UsageRecordsRepository) {}

  /**
   * The filter of both the JSON list and the CSV export, so both refuse the same input (dates,
   * cursor, another user's records without the role) before anything is read or streamed. Another
   * user's records need supervisor or admin; the default is the caller's own.
   */
  private recordsFilter(caller: AuthUser, query: RecordsQuery): RecordsFilter {
    const range = parseDateRange(query.startDate, query.endDate);
    const after = decodeTimeCursor(query.cursor, 'uuid');
    // Without userId: everyone's records for those who may read anyone's, else the caller's own.
    const userId = query.userId ?? (mayAccessUser(caller, undefined) ? undefined : caller.userId);
    if (userId !== undefined) assertMayAccessUser(caller, userId, 'usage');
    return { userId, service: query.service, range, after };
  }

  /** Keyset paging on ("timestamp", id), newest first: rows inserted meanwhile never shift a page. */
  async listRecords(caller: AuthUser, query: RecordsQuery & { limit?: number }): Promise<Page<UsageRecordResponseDto>> {
    const filter = this.recordsFilter(caller, query);
    const limit = query.limit ?? DEFAULT_LIMIT;
    const rows = await this.records.list(filter, limit + 1);
    // The cursor keeps PostgreSQL's microseconds (a JS Date would round them and skip or repeat rows).
    return toPage(
      rows,
      limit,
      (r) => toRecordDto(toRow(r)),
      (r) => ({ t: r.ts_key, id: r.id }),
    );
  }

  /**
   * Every matching record as CSV, newest first (after `cursor` when given; no `limit`), read through a
   * server-side cursor in batches, so memory stays flat however many rows match; the stream pauses
   * while the client reads slowly. The filter is checked and the cursor opened before the answer
   * starts, so bad input and database errors are clean error responses.
   */
  async streamRecordsCsv(caller: AuthUser, query: RecordsQuery): Promise<Readable> {
    const cursor = await this.records.openCursor(this.recordsFilter(caller, query));
    async function* lines(): AsyncGenerator<string> {
      try {
        yield csvLine(CSV_COLUMNS);
        for (;;) {
          const batch = await cursor.fetch(CSV_BATCH);
          if (batch.length === 0) break;
          yield batch.map(csvRow).join('');
        }
        await cursor.commit();
      } finally {
        // Also reached when the client disconnects (the generator is returned early).
        await cursor.close();
      }
    }
    return Readable.from(lines(), { objectMode: false, highWaterMark: 64 * 1024 });
  }
}
