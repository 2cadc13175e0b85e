import { Body, Controller, Get, HttpCode, Logger, Param, Query, Res, StreamableFile } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiProduces,
  ApiTags,
  ApiUnprocessableEntityResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import type { Response } from 'express';

import { existingUser, type ResolvedAccount } from '../auth/account-access.js';
import { Auth, CurrentUser, NamedAccount } from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { StaffRead } from '../auth/staff-read.decorator.js';
import { unknownModelExample } from '../common/errors/error-examples.js';
import { ErrorResponseDto, UnprocessableResponseDto } from '../common/errors/error-response.dto.js';
import { ApiNotFoundOf } from '../common/errors/not-found.decorator.js';
import { ApiSpendRefusedResponse } from '../common/errors/payment-required.decorator.js';
import { DeferredBodyInterceptor } from '../common/http/deferred-body.interceptor.js';
import { IdempotentPost } from '../idempotency/idempotent-post.decorator.js';
import { answerReplayed } from '../idempotency/replayed-create.interceptor.js';
import { KeyForStatement, type StatementKey } from '../idempotency/statement-key.js';
import { providerUsageExamples } from '../pricing/dto/provider-usage.dto.js';
import { kindExamples } from '../pricing/dto/token-kinds.dto.js';
import { TOKEN_FIELDS } from '../pricing/token-kinds.js';
import { UsageBatchService } from './batch/usage-batch.service.js';
import { ApiCsvExportRefusals } from './csv/csv-export.decorator.js';
import { csvExportFile } from './csv/csv-export-file.js';
import { RecordBatchDto, RecordBatchResponseDto } from './dto/record-batch.dto.js';
import {
  ExportRecordsQueryDto,
  ListRecordsQueryDto,
  RecordUsageDto,
  StatsQueryDto,
  SystemStatsQueryDto,
  UsageRecordResponseDto,
  UserIdParamDto,
} from './dto/record-usage.dto.js';
import { UsageRecordListResponseDto } from './dto/record-view.dto.js';
import { ModelMarginDto, SystemUsageStatsResponseDto, UserUsageStatsResponseDto } from './dto/usage-stats.dto.js';
import { UsageStatsService } from './stats/usage-stats.service.js';
import { UsageService } from './usage.service.js';
import { UsageRecordsService } from './usage-records.service.js';

/** The CSV both record routes can answer, as their 200 documents it (a string with a header row). */
const USAGE_RECORDS_CSV = {
  'text/csv': {
    schema: {
      type: 'string',
      example: [
        'id,userId,timestamp,service,operation,credits,modelId,tokens',
        ...TOKEN_FIELDS,
        'billingStatus,metadata\r\n',
      ].join(','),
    },
  },
};

@ApiTags('usage')
@ApiExtraModels(ModelMarginDto)
@Controller('api/usage')
export class UsageController {
  private readonly logger = new Logger('UsageExport');

  constructor(
    private readonly usage: UsageService,
    private readonly statistics: UsageStatsService,
    private readonly recordList: UsageRecordsService,
    private readonly batch: UsageBatchService,
  ) {}

  @IdempotentPost('record', { keyInStatement: true })
  @Auth('user', { scope: 'usage:write', meters: true })
  @ApiOperation({
    operationId: 'recordUsage',
    summary: 'Record usage and debit its credits (one transaction)',
    description:
      'A service principal (an admin token, or an API key with `usage:ingest`) names the billed user with `userId` and ' +
      'may name the user’s key the usage went through with `apiKeyId` (it counts against that key’s budget). ' +
      'Without `credits`, `modelId` and `tokens` (or the counts per kind: `inputTokens`, `outputTokens`, ' +
      '`cacheReadTokens`, `cacheWriteTokens`, `reasoningTokens`) are required and the credits are calculated exactly ' +
      'from the price in effect, each kind at its price. Instead of the counts, `providerUsage` gives the provider’s own ' +
      'usage object (`openai.chat`, `openai.responses`, `anthropic`, `gemini`), which the service maps to the kinds ' +
      '(usageSource `provider`; the object is kept with the record). The record and its debit commit together; when the balance is ' +
      'short nothing is written (402). Supports `Idempotency-Key`. With `eventId`, an id the caller used before ' +
      '(here or in recordUsageBatch, within 35 days) records nothing and answers the original record with 200 and ' +
      '`Idempotent-Replayed: true`.',
  })
  @ApiBody({
    type: RecordUsageDto,
    examples: {
      byCredits: {
        summary: 'A known number of credits',
        value: { service: 'image', operation: 'generate', credits: 12 },
      },
      byTokens: {
        summary: 'The chat backend’s service key meters a user’s call: a token count, priced at the model’s price',
        value: {
          userId: 'alice',
          service: 'chat',
          operation: 'completion',
          modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
          tokens: 1500,
        },
      },
      byInputOutput: {
        summary: 'Input and output tokens, each at its price, with metadata',
        value: {
          userId: 'alice',
          service: 'chat',
          operation: 'completion',
          modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
          inputTokens: 1000,
          outputTokens: 500,
          metadata: { conversationId: 'c-42' },
        },
      },
      ...kindExamples((modelId, tokens) => ({
        userId: 'alice',
        service: 'chat',
        operation: 'completion',
        modelId,
        ...tokens,
      })),
      // The provider's own usage object, one per format, mapped to the kinds by the service.
      ...providerUsageExamples((modelId, providerUsage) => ({
        userId: 'alice',
        service: 'chat',
        operation: 'completion',
        modelId,
        providerUsage,
      })),
      withEventId: {
        summary: 'With an eventId: sent again, it answers the first record and records nothing',
        value: { service: 'image', operation: 'generate', credits: 3, eventId: 'img-7f3a9c' },
      },
    },
  })
  @ApiCreatedResponse({ type: UsageRecordResponseDto })
  @ApiOkResponse({
    type: UsageRecordResponseDto,
    description: 'Replayed: the eventId was used before; the original record, with `Idempotent-Replayed: true`',
  })
  @ApiBadRequestResponse({
    description:
      'Invalid body (unknown fields such as timestamp are refused; userId and apiKeyId only from service ' +
      'principals); `API_KEY_MISMATCH`: apiKeyId is not a usable key of the billed user',
    type: ErrorResponseDto,
  })
  @ApiSpendRefusedResponse('nothing was recorded')
  @ApiNotFoundOf('User', 'The billed user a service principal named has no account; nothing was written')
  @ApiConflictResponse({ description: 'The same Idempotency-Key is still in progress', type: ErrorResponseDto })
  @ApiUnprocessableEntityResponse({
    description: 'Idempotency-Key reused with another body, or an unknown model with PRICING_STRICT',
    type: UnprocessableResponseDto,
    examples: unknownModelExample,
  })
  async record(
    @CurrentUser() user: AuthUser,
    @Body() body: RecordUsageDto,
    @KeyForStatement() key: StatementKey | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<UsageRecordResponseDto> {
    const { record, replayed, status } = await this.usage.record(user, body, key);
    // The hot route answers its replay itself: a second interceptor would cost every record.
    if (replayed) answerReplayed(res, status);
    return record;
  }

  @IdempotentPost('records/batch', { readsBody: DeferredBodyInterceptor })
  @HttpCode(200)
  @Auth('user', { scope: 'usage:write', meters: true })
  @ApiOperation({
    operationId: 'recordUsageBatch',
    summary: 'Record up to 1,000 usage events, each its own atomic record-and-debit',
    description:
      'Each event is checked, priced and debited on its own: a short balance (or the key budget, or the hourly ' +
      'spend limit) rejects that event only (`insufficient_credits`, `error` naming the reason), a bad event is ' +
      '`invalid`, and the others still apply; one user’s events apply in array order. `eventId` deduplicates per ' +
      'caller for at least 35 days, in the same namespace as recordUsage: a repeat (in this batch, an earlier one, ' +
      'or concurrently) is `duplicate` with the original record. `userId` (the billed user) only from service ' +
      'principals (admins, API keys with `usage:ingest`); a service key must give it. Events name no `apiKeyId`: the ' +
      'batch counts against the calling key. Bodies up to BATCH_BODY_LIMIT (default 2 MB). When the request fails ' +
      'part-way (503), the events that were recorded stay: send the batch again, the duplicates are skipped.',
  })
  @ApiBody({
    type: RecordBatchDto,
    examples: {
      mixed: {
        summary: 'Known credits and priced tokens, each with its event id',
        value: {
          events: [
            { eventId: 'evt-2026-11-21-000001', service: 'image', operation: 'generate', credits: 12 },
            {
              eventId: 'evt-2026-11-21-000002',
              service: 'chat',
              operation: 'completion',
              modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
              inputTokens: 1000,
              outputTokens: 500,
              metadata: { conversationId: 'c-42' },
            },
          ],
        },
      },
      tokenKinds: {
        summary: 'Calls billed by token kind: a cached Anthropic call, an OpenAI reasoning call, a long-context call',
        value: {
          events: Object.values(
            kindExamples((modelId, tokens) => ({ service: 'chat', operation: 'completion', modelId, ...tokens })),
          ).map(({ value }, i) => ({ eventId: `evt-2026-11-21-00010${i}`, ...value })),
        },
      },
      providerUsage: {
        summary: 'Calls billed from each provider’s own usage object (OpenAI Chat and Responses, Anthropic, Gemini)',
        value: {
          events: Object.values(
            providerUsageExamples((modelId, providerUsage) => ({
              service: 'chat',
              operation: 'completion',
              modelId,
              providerUsage,
            })),
          ).map(({ value }, i) => ({ eventId: `evt-2026-11-21-00020${i}`, ...value })),
        },
      },
      forAnotherUser: {
        summary: 'An ingesting service (admin, or a key with usage:ingest) records for a user',
        value: {
          events: [
            {
              eventId: 'gw-9f1c2e',
              userId: 'alice',
              service: 'chat',
              operation: 'completion',
              modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
              tokens: 1500,
            },
          ],
        },
      },
    },
  })
  @ApiOkResponse({ type: RecordBatchResponseDto, description: 'One result per event, in request order' })
  @ApiBadRequestResponse({
    description: 'The body is not `{events: [...]}` with 1–1000 events (a bad event alone is answered `invalid`)',
    type: ErrorResponseDto,
  })
  @ApiPayloadTooLargeResponse({ description: 'Body over BATCH_BODY_LIMIT', type: ErrorResponseDto })
  recordBatch(@CurrentUser() user: AuthUser, @Body() body: RecordBatchDto): Promise<RecordBatchResponseDto> {
    return this.batch.recordBatch(user, body);
  }

  @Get('stats')
  @Auth('user', { scope: 'usage:read', portal: 'own', own: 'user' })
  @ApiOperation({ operationId: 'getUsageStats', summary: "The caller's usage statistics (aggregated by the database)" })
  @ApiOkResponse({ type: UserUsageStatsResponseDto })
  @ApiBadRequestResponse({ description: 'Bad date, or startDate after endDate', type: ErrorResponseDto })
  stats(@NamedAccount() own: ResolvedAccount, @Query() query: StatsQueryDto): Promise<UserUsageStatsResponseDto> {
    return this.statistics.userStats(own, query);
  }

  @Get('stats/:userId')
  @Auth('supervisor', { account: { user: 'staff' } })
  @ApiOperation({ operationId: 'getUserUsageStats', summary: "A user's usage statistics" })
  @ApiOkResponse({ type: UserUsageStatsResponseDto })
  @ApiBadRequestResponse({ description: 'Bad date, or startDate after endDate', type: ErrorResponseDto })
  @ApiNotFoundOf('User', 'Unknown user')
  statsOf(
    @Param() _params: UserIdParamDto,
    @Query() query: StatsQueryDto,
    @NamedAccount() account: ResolvedAccount | null,
  ): Promise<UserUsageStatsResponseDto> {
    return this.statistics.userStats(existingUser(account), query);
  }

  @Get('system-stats')
  @StaffRead(
    'admin',
    SystemUsageStatsResponseDto,
    'getSystemUsageStats',
    'System-wide usage statistics, top users, provider cost and margins per model',
  )
  @ApiBadRequestResponse({
    description: 'Bad date, startDate after endDate, or topUsers outside 1–1000',
    type: ErrorResponseDto,
  })
  systemStats(@Query() query: SystemStatsQueryDto): Promise<SystemUsageStatsResponseDto> {
    return this.statistics.systemStats(query);
  }

  @Get('records')
  // Above @Auth: applied after it, so its 429 schema (with retryAfter) is the one documented.
  @ApiCsvExportRefusals('With format=csv: ')
  @Auth('user', { scope: 'usage:read', account: { user: 'holder' }, portal: 'own' })
  @ApiOperation({
    operationId: 'listUsageRecords',
    summary: 'Usage records, newest first (own; supervisors and admins: any user or everyone)',
    description:
      'Cursor paging on (timestamp, id). For every matching record as CSV use exportUsageRecordsCsv; ' +
      '`format=csv` here still answers text/csv for existing callers (with the export’s limits) but is deprecated.',
  })
  @ApiExtraModels(UsageRecordListResponseDto)
  @ApiOkResponse({
    description: 'A page of records (JSON), or with format=csv every matching record as CSV',
    content: {
      'application/json': { schema: { $ref: getSchemaPath(UsageRecordListResponseDto) } },
      ...USAGE_RECORDS_CSV,
    },
  })
  @ApiBadRequestResponse({ description: 'Bad filter, date or cursor', type: ErrorResponseDto })
  async records(
    @CurrentUser() user: AuthUser,
    @Query() query: ListRecordsQueryDto,
  ): Promise<UsageRecordListResponseDto | StreamableFile> {
    if (query.format === 'csv') return this.csv(user, query);
    return this.recordList.listRecords(user, query);
  }

  // Declared after `records`; a static path, so no parameter route can take "export".
  @Get('records/export')
  @ApiCsvExportRefusals()
  @Auth('user', { scope: 'usage:read', account: { user: 'holder' }, portal: 'own' })
  @ApiOperation({
    operationId: 'exportUsageRecordsCsv',
    summary: 'Every matching usage record as CSV (own; supervisors and admins: any user or everyone)',
    description:
      'Streams text/csv with a header row: every record the same filters select in listUsageRecords, after ' +
      '`cursor` when one is given. The filters are checked before anything is streamed. Text cells are quoted, ' +
      "and a cell that a spreadsheet could read as a formula starts with `'`. At most 2 exports per user at a " +
      'time; an export whose client takes nothing for EXPORT_STALL_TIMEOUT_MS is cut off.',
  })
  @ApiProduces('text/csv')
  @ApiOkResponse({ description: 'The CSV export', content: USAGE_RECORDS_CSV })
  @ApiBadRequestResponse({ description: 'Bad filter, date or cursor', type: ErrorResponseDto })
  async exportCsv(@CurrentUser() user: AuthUser, @Query() query: ExportRecordsQueryDto): Promise<StreamableFile> {
    return this.csv(user, query);
  }

  private async csv(user: AuthUser, query: ExportRecordsQueryDto): Promise<StreamableFile> {
    return csvExportFile(await this.recordList.streamRecordsCsv(user, query), this.logger);
  }
}
