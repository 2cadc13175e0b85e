import {
  applyDecorators,
  Body,
  Controller,
  Get,
  Logger,
  Param,
  Put,
  Query,
  StreamableFile,
  type Type,
} from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';

import type { AccountRule, ResolvedAccount } from '../auth/account-access.js';
import { Auth, CurrentUser, NamedAccount } from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import { CreditQueriesService } from '../credits/balances/credit-queries.service.js';
import { AllocationListResponseDto } from '../credits/dto/allocations.dto.js';
import { LedgerListResponseDto } from '../credits/dto/ledger.dto.js';
import { PutAlertThresholdsDto, PutCreditLimitsDto } from '../credits/dto/limits.dto.js';
import { CreditLimitsService } from '../credits/limits/credit-limits.service.js';
import { ApiCsvExportRefusals } from '../usage/csv/csv-export.decorator.js';
import { csvExportFile } from '../usage/csv/csv-export-file.js';
import { ListRecordsQueryDto } from '../usage/dto/record-usage.dto.js';
import { UsageRecordListResponseDto } from '../usage/dto/record-view.dto.js';
import { StatsQueryDto } from '../usage/dto/usage-queries.dto.js';
import { UsageStatsService } from '../usage/stats/usage-stats.service.js';
import { UsageRecordsService } from '../usage/usage-records.service.js';
import {
  OrgAlertThresholdsResponseDto,
  OrgAllocationsQueryDto,
  OrgBalanceResponseDto,
  OrgLedgerQueryDto,
  OrgLimitsResponseDto,
  OrgUsageStatsResponseDto,
} from './dto/org-money.dto.js';
import { OrgRoleForbidden, OrgRoute } from './org-docs.js';

const READ_MONEY = 'read its money and usage';
/** The org's readers (owners, admins, billing) and staff read its money; outsiders get 404. */
const READERS: AccountRule = { org: 'reader', what: READ_MONEY };

/** The org's money reads by operationId, with their summaries in the document. */
const MONEY_READS = {
  getOrgBalance: 'The org pool’s available, held and owed credits and its active allocations (org readers, staff)',
  listOrgAllocations: 'The org’s allocations, newest first (org readers, staff)',
  listOrgLedger: 'The org’s ledger entries, newest first, filtered as a user’s (org readers, staff)',
  getOrgUsageStats: 'Statistics of the usage charged to the org, with credits per member (org readers, staff)',
} as const;

/**
 * A read of the org's money: its readers, staff and a portal session of the org's own; 403 for a
 * member below reader; `badRequest`: what its 400 means, where its query says more than a page's.
 * Listed last to first: applyDecorators applies them in order, a stack from its last line up, so
 * the document is the one the stack written out made.
 */
function MoneyRead(operationId: keyof typeof MONEY_READS, ok: Type<unknown>, badRequest?: string): MethodDecorator {
  return applyDecorators(
    OrgRoleForbidden(READ_MONEY),
    ...(badRequest ? [ApiBadRequestResponse({ description: badRequest, type: ErrorResponseDto })] : []),
    ApiOkResponse({ type: ok }),
    OrgRoute(),
    ApiOperation({ operationId, summary: MONEY_READS[operationId] }),
    Auth('user', { account: READERS, portal: 'own' }),
  );
}

/**
 * An organisation's account, read and set through the routes users have (docs/orgs.md "The org's money"):
 * the same services, given the org's account. Reads for org readers (owners, admins, billing) and
 * staff; settings for staff.
 */
@ApiTags('orgs')
@Controller('api/orgs/:orgId')
export class OrgMoneyController {
  private readonly logger = new Logger('UsageExport');

  constructor(
    private readonly credits: CreditQueriesService,
    private readonly limits: CreditLimitsService,
    private readonly stats: UsageStatsService,
    private readonly records: UsageRecordsService,
  ) {}

  @Get('balance')
  @MoneyRead('getOrgBalance', OrgBalanceResponseDto)
  async balance(
    @Param('orgId') orgId: string,
    @NamedAccount() account: ResolvedAccount,
  ): Promise<OrgBalanceResponseDto> {
    return { orgId, ...(await this.credits.accountBalance(account.accountId)) };
  }

  @Get('allocations')
  @MoneyRead('listOrgAllocations', AllocationListResponseDto)
  async allocations(
    @Query() query: OrgAllocationsQueryDto,
    @NamedAccount() account: ResolvedAccount,
  ): Promise<AllocationListResponseDto> {
    return this.credits.listAllocations({ ...query, accountId: account.accountId });
  }

  @Get('ledger')
  @MoneyRead('listOrgLedger', LedgerListResponseDto, 'Bad filter, date or cursor')
  async ledger(
    @Query() query: OrgLedgerQueryDto,
    @NamedAccount() account: ResolvedAccount,
  ): Promise<LedgerListResponseDto> {
    return this.credits.listLedger({ ...query, accountId: account.accountId });
  }

  @Get('usage/stats')
  @MoneyRead('getOrgUsageStats', OrgUsageStatsResponseDto, 'Bad date, startDate after endDate, or an unknown groupBy')
  async usageStats(
    @Param('orgId') _orgId: string,
    @Query() query: StatsQueryDto,
    @NamedAccount() account: ResolvedAccount,
  ): Promise<OrgUsageStatsResponseDto> {
    return this.stats.orgStats(account, query);
  }

  @Get('usage/records')
  // Above @Auth: applied after it, so its 429 schema (with retryAfter) is the one documented.
  @ApiCsvExportRefusals('With format=csv: ')
  @Auth('user', { account: READERS, portal: 'own' })
  @ApiOperation({
    operationId: 'listOrgUsageRecords',
    summary: 'The usage records charged to the org, newest first; `userId` picks one member (org readers, staff)',
    description: 'Filters and paging as listUsageRecords; `format=csv` streams every matching record as text/csv.',
  })
  @ApiProduces('application/json', 'text/csv')
  @OrgRoute()
  @ApiOkResponse({ type: UsageRecordListResponseDto, description: 'A page of records (or the CSV export)' })
  @ApiBadRequestResponse({ description: 'Bad filter, date or cursor', type: ErrorResponseDto })
  @OrgRoleForbidden(READ_MONEY)
  async usageRecords(
    @CurrentUser() user: AuthUser,
    @Param('orgId') _orgId: string,
    @Query() query: ListRecordsQueryDto,
    @NamedAccount() account: ResolvedAccount,
  ): Promise<UsageRecordListResponseDto | StreamableFile> {
    if (query.format === 'csv')
      return csvExportFile(await this.records.streamRecordsCsv(user, query, account), this.logger);
    return this.records.listRecords(user, query, account);
  }

  @Put('limits')
  @Auth('supervisor', { account: { org: 'staff' } })
  @ApiOperation({
    operationId: 'setOrgLimits',
    summary: 'Set the org account’s overdraft and hourly spend limit (supervisor)',
    description: 'As PUT /api/credits/limits/:userId, for the org’s account. Fields left out keep their value.',
  })
  @OrgRoute()
  @ApiBody({
    type: PutCreditLimitsDto,
    examples: {
      overdraft: { summary: 'Let the org owe up to 1,000 credits', value: { overdraftLimit: 1000 } },
      hourly: { summary: 'At most 5,000 credits in any hour', value: { maxCreditsPerHour: 5000 } },
    },
  })
  @ApiOkResponse({ type: OrgLimitsResponseDto })
  async setLimits(
    @Param('orgId') orgId: string,
    @Body() body: PutCreditLimitsDto,
    @NamedAccount() account: ResolvedAccount,
  ): Promise<OrgLimitsResponseDto> {
    return { orgId, ...(await this.limits.putFor(account, body, 'org.limits.set')) };
  }

  @Get('limits')
  @Auth('user', { account: READERS })
  @ApiOperation({
    operationId: 'getOrgLimits',
    summary: 'The org account’s overdraft, hourly spend limit and debt (org readers, staff)',
  })
  @OrgRoute()
  @ApiOkResponse({ type: OrgLimitsResponseDto })
  @OrgRoleForbidden(READ_MONEY)
  async getLimits(
    @Param('orgId') orgId: string,
    @NamedAccount() account: ResolvedAccount,
  ): Promise<OrgLimitsResponseDto> {
    return { orgId, ...(await this.limits.limitsOf(account.accountId)) };
  }

  @Put('alerts')
  @Auth('supervisor', { account: { org: 'staff' } })
  @ApiOperation({
    operationId: 'setOrgAlertThresholds',
    summary: 'Set the org’s low-balance alert thresholds (supervisor)',
    description: 'As PUT /api/credits/alerts/:userId, for the org’s account; an empty list turns balance.low off.',
  })
  @OrgRoute()
  @ApiBody({
    type: PutAlertThresholdsDto,
    examples: { two: { summary: 'Tell at 5,000 and at 500 credits', value: { thresholds: [5000, 500] } } },
  })
  @ApiOkResponse({ type: OrgAlertThresholdsResponseDto })
  async setAlerts(
    @Param('orgId') orgId: string,
    @Body() body: PutAlertThresholdsDto,
    @NamedAccount() account: ResolvedAccount,
  ): Promise<OrgAlertThresholdsResponseDto> {
    const view = await this.limits.putAlertsFor(account, body.thresholds);
    return { orgId, thresholds: view.thresholds, source: view.own ? 'org' : 'default' };
  }
}
