import { Body, Controller, Get, Param, Post, Query, StreamableFile } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiExtraModels,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';

import { Auth, CurrentUser } from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { ApiCreditChargeResponses } from '../common/errors/credit-charge-responses.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import {
  DateRangeQueryDto,
  ListRecordsQueryDto,
  RecordUsageDto,
  SystemStatsQueryDto,
  UsageRecordListResponseDto,
  UsageRecordResponseDto,
  UserIdParamDto,
} from './dto/record-usage.dto.js';
import { ModelMarginDto, SystemUsageStatsResponseDto, UserUsageStatsResponseDto } from './dto/usage-stats.dto.js';
import { UsageService } from './usage.service.js';
import { UsageRecordsService } from './usage-records.service.js';
import { UsageStatsService } from './usage-stats.service.js';

@ApiTags('usage')
@ApiExtraModels(ModelMarginDto)
@Controller('api/usage')
export class UsageController {
  constructor(
    private readonly usage: UsageService,
    private readonly statistics: UsageStatsService,
    private readonly recordList: UsageRecordsService,
  ) {}

  @Post('record')
  @Auth('user', { scope: 'usage:write' })
  @ApiOperation({
    summary: 'Record usage and debit its credits (one transaction)',
    description:
      'Without `credits`, `modelId` and `tokens` (or `inputTokens` + `outputTokens`) are required and the credits are ' +
      'calculated exactly from the price in effect. The record and its debit commit together; when the balance is ' +
      'short nothing is written (402). Supports `Idempotency-Key`.',
  })
  @ApiCreditChargeResponses(UsageRecordResponseDto, {
    badRequest: 'Invalid body (unknown fields such as userId or timestamp are refused)',
    paymentRequired: 'Insufficient credits; nothing was recorded',
    conflict: 'The same Idempotency-Key is still in progress',
    unprocessable: 'Idempotency-Key reused with another body, or an unknown model with PRICING_STRICT',
  })
  record(@CurrentUser() user: AuthUser, @Body() body: RecordUsageDto): Promise<UsageRecordResponseDto> {
    return this.usage.record(user.userId, body);
  }

  @Get('stats')
  @Auth('user', { scope: 'usage:read' })
  @ApiOperation({ summary: "The caller's usage statistics (aggregated by the database)" })
  @ApiOkResponse({ type: UserUsageStatsResponseDto })
  @ApiBadRequestResponse({ description: 'Bad date, or startDate after endDate', type: ErrorResponseDto })
  stats(@CurrentUser() user: AuthUser, @Query() query: DateRangeQueryDto): Promise<UserUsageStatsResponseDto> {
    return this.statistics.userStats(user.userId, query);
  }

  @Get('stats/:userId')
  @Auth('supervisor')
  @ApiOperation({ summary: "A user's usage statistics" })
  @ApiOkResponse({ type: UserUsageStatsResponseDto })
  @ApiBadRequestResponse({ description: 'Bad date, or startDate after endDate', type: ErrorResponseDto })
  @ApiNotFoundResponse({ description: 'Unknown user', type: ErrorResponseDto })
  statsOf(@Param() params: UserIdParamDto, @Query() query: DateRangeQueryDto): Promise<UserUsageStatsResponseDto> {
    return this.statistics.userStats(params.userId, query, true);
  }

  @Get('system-stats')
  @Auth('admin')
  @ApiOperation({ summary: 'System-wide usage statistics, top users, provider cost and margins per model' })
  @ApiOkResponse({ type: SystemUsageStatsResponseDto })
  @ApiBadRequestResponse({
    description: 'Bad date, startDate after endDate, or topUsers outside 1–1000',
    type: ErrorResponseDto,
  })
  systemStats(@Query() query: SystemStatsQueryDto): Promise<SystemUsageStatsResponseDto> {
    return this.statistics.systemStats(query);
  }

  @Get('records')
  @Auth('user', { scope: 'usage:read' })
  @ApiOperation({
    summary: 'Usage records, newest first (own; supervisors and admins: any user or everyone)',
    description:
      "Cursor paging on (timestamp, id). `format=csv` streams text/csv with a header row: every matching record, after `cursor` when one is given (`limit` does not apply). Its filters are checked exactly like the JSON list's, before anything is streamed.",
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({
    description: 'A page of records, or the CSV export',
    content: {
      'application/json': { schema: { $ref: getSchemaPath(UsageRecordListResponseDto) } },
      'text/csv': {
        schema: {
          type: 'string',
          example:
            'id,userId,timestamp,service,operation,credits,modelId,tokens,inputTokens,outputTokens,billingStatus,metadata\r\n',
        },
      },
    },
  })
  @ApiExtraModels(UsageRecordListResponseDto)
  @ApiBadRequestResponse({ description: 'Bad filter, date or cursor', type: ErrorResponseDto })
  async records(
    @CurrentUser() user: AuthUser,
    @Query() query: ListRecordsQueryDto,
  ): Promise<UsageRecordListResponseDto | StreamableFile> {
    if (query.format === 'csv') {
      return new StreamableFile(await this.recordList.streamRecordsCsv(user, query), {
        type: 'text/csv; charset=utf-8',
        disposition: 'attachment; filename="usage-records.csv"',
      });
    }
    return this.recordList.listRecords(user, query);
  }
}
