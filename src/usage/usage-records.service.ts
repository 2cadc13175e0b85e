import { Inject, Injectable } from '@nestjs/common';

import { isStaff, type ResolvedAccount } from '../auth/account-access.js';
import type { AuthUser } from '../auth/roles.js';
import { TooManyExportsError } from '../common/errors/domain-error.js';
import { decodeTimeCursor, DEFAULT_LIMIT, type Page, toPage } from '../common/http/pagination.js';
import { parseDateRange } from '../common/validation/date-range.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { TOKEN_FIELDS } from '../pricing/token-kinds.js';
import { CsvExportStream } from './csv/csv-export-stream.js';
import { ExportSlots } from './csv/export-slots.js';
import { csvLine, csvNumber, csvText } from './csv/usage-csv.js';
import type { UsageRecordResponseDto } from './dto/record-usage.dto.js';
import type { UsageRecordViewDto } from './dto/record-view.dto.js';
import { type RecordsFilter, UsageRecordsRepository } from './usage-records.repository.js';

/** The filters of GET /api/usage/records (JSON and CSV alike). */
interface RecordsQuery {
  userId?: string;
  service?: string;
  modelId?: string;
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
  ...TOKEN_FIELDS,
  'billingStatus',
  'metadata',
  // Who acted: last, so the columns readers already know keep their places.
  'apiKeyId',
  'actorId',
  // The organisation that paid (userId is then the member who used it): last again.
  'orgId',
  // The service tier it was priced at and its units (JSON): last again.
  'serviceTier',
  'units',
];
const CSV_BATCH = 1000;
/** Exports one user may have streaming at once (per instance). */
export const EXPORTS_PER_USER = 2;

/** Every text cell quoted and defused (user-supplied or not: one rule); numbers plain. */
function csvRow(r: Omit<UsageRecordResponseDto, 'scopes'>): string {
  return csvLine([
    csvText(r.id),
    csvText(r.userId),
    csvText(r.timestamp),
    csvText(r.service),
    csvText(r.operation),
    csvNumber(r.credits),
    csvText(r.modelId),
    csvNumber(r.tokens),
    ...TOKEN_FIELDS.map((field) => csvNumber(r[field])),
    csvText(r.billingStatus),
    csvText(r.metadata),
    csvText(r.apiKeyId),
    csvText(r.actorId),
    csvText(r.orgId),
    csvText(r.serviceTier),
    csvText(r.units),
  ]);
}

/** Reading records back: the JSON list and the CSV export, with one filter for both. */
@Injectable()
export class UsageRecordsService {
  private readonly exports: ExportSlots;

  constructor(
    private readonly records: UsageRecordsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    this.exports = new ExportSlots(EXPORTS_PER_USER, config.csvExports.poolSize);
  }

  /**
   * The filter of both the JSON list and the CSV export, so both refuse the same input (dates,
   * cursor, another user's records without the role) before anything is read or streamed. Another
   * user's records need supervisor or admin; the default is the caller's own.
   */
  private recordsFilter(caller: AuthUser, query: RecordsQuery): RecordsFilter {
    const range = parseDateRange(query.startDate, query.endDate);
    const after = decodeTimeCursor(query.cursor, 'uuid');
    // Without userId: everyone's records for those who may read anyone's, else the caller's own.
    // Whose records a caller may name the access rule decided (src/auth/account-access.ts).
    const userId = query.userId ?? (isStaff(caller) ? undefined : caller.userId);
    return { userId, service: query.service, modelId: query.modelId, range, after };
  }

  /**
   * The filter of an organisation's records: those charged to its account (the one the org route's
   * access rule resolved: org readers, staff), of one member when `userId` is given.
   */
  private orgFilter(account: ResolvedAccount, query: RecordsQuery): RecordsFilter {
    const range = parseDateRange(query.startDate, query.endDate);
    const after = decodeTimeCursor(query.cursor, 'uuid');
    return { account, userId: query.userId, service: query.service, modelId: query.modelId, range, after };
  }

  /** Keyset paging on ("timestamp", id), newest first: rows inserted meanwhile never shift a page. */
  async listRecords(
    caller: AuthUser,
    query: RecordsQuery & { limit?: number },
    org?: ResolvedAccount,
  ): Promise<Page<UsageRecordViewDto>> {
    const filter = org === undefined ? this.recordsFilter(caller, query) : this.orgFilter(org, query);
    const limit = query.limit ?? DEFAULT_LIMIT;
    const rows = await this.records.list(filter, limit + 1);
    // Each row is its view: the cursor's key read (PostgreSQL's microseconds), then left out of the answer.
    const page = toPage(
      rows,
      limit,
      (r) => r,
      (r) => ({ t: r.ts_key!, id: r.id }),
    );
    for (const r of page.items) r.ts_key = undefined;
    return page;
  }

  /**
   * Every matching record as CSV, newest first (after `cursor` when given; no `limit`), read through a
   * server-side cursor in batches, so memory stays flat however many rows match; the stream pauses
   * while the client reads slowly and ends when it stops reading (EXPORT_STALL_TIMEOUT_MS). The filter
   * is checked, the caller's export slot taken and the cursor opened before the answer starts, so bad
   * input, a third export of one user (429) and database errors are clean error responses.
   */
  async streamRecordsCsv(caller: AuthUser, query: RecordsQuery, org?: ResolvedAccount): Promise<CsvExportStream> {
    const filter = org === undefined ? this.recordsFilter(caller, query) : this.orgFilter(org, query);
    const { stallTimeoutMs } = this.config.csvExports;
    const { giveBack, refused } = this.exports.tryTake(caller.userId);
    if (!giveBack) {
      this.metrics.csvExportEnded('refused');
      throw new TooManyExportsError(this.exports.perUser, Math.ceil(stallTimeoutMs / 1000), refused === 'pool');
    }
    const cursor = await this.records.openCursor(filter).catch((error: unknown) => {
      giveBack();
      throw error;
    });
    let headerSent = false;
    const source = {
      next: async (): Promise<string | null> => {
        if (!headerSent) {
          headerSent = true;
          return csvLine(CSV_COLUMNS);
        }
        const batch = await cursor.fetch(CSV_BATCH);
        if (batch.length > 0) return batch.map(csvRow).join('');
        await cursor.commit();
        return null;
      },
      close: () => cursor.close(),
    };
    return new CsvExportStream(source, stallTimeoutMs, (how) => {
      giveBack();
      this.metrics.csvExportEnded(how);
    });
  }
}
