import { Controller, Get, Query, StreamableFile } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';

import { Auth } from '../auth/auth.decorator.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import {
  LiabilityQueryDto,
  LiabilityResponseDto,
  RollForwardQueryDto,
  RollForwardResponseDto,
} from './dto/finance.dto.js';
import { FinanceService } from './finance.service.js';
import { liabilityCsv, rollForwardCsv } from './finance-csv.js';

/** What the credits are worth (docs/finance.md): the roll-forward and the liability (supervisors and admins). */
@ApiTags('finance')
@Controller('api/finance')
export class FinanceController {
  constructor(private readonly finance: FinanceService) {}

  @Get('rollforward')
  @Auth('supervisor')
  @ApiOperation({
    operationId: 'getFinanceRollForward',
    summary: 'The liability’s roll-forward by month or day: revenue, breakage, refunds (supervisor)',
    description:
      'For every period from `from` to `to` (UTC dates, `to` exclusive, at most 366 days): opening + purchased + ' +
      'sold + transferredIn − recognized − expired − refunded − chargedBack − voided − transferredOut = closing, ' +
      'exactly, in the currency’s minor unit places; `disputed` is the frozen part of closing; `promotional` ' +
      'counts credits of promotional allocations. `groupBy=account` adds each account; `format=csv` answers text/csv.',
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: RollForwardResponseDto })
  @ApiBadRequestResponse({ description: 'Bad currency, dates or range', type: ErrorResponseDto })
  async rollForward(@Query() query: RollForwardQueryDto): Promise<RollForwardResponseDto | StreamableFile> {
    const report = await this.finance.rollForward(query);
    return query.format === 'csv' ? csvFile(rollForwardCsv(report), 'rollforward.csv') : report;
  }

  @Get('liability')
  @Auth('supervisor')
  @ApiOperation({
    operationId: 'getFinanceLiability',
    summary: 'Every account’s valued credits and their money at an instant (supervisor)',
    description:
      'From the ledger, as they stood at `at` (default now): held and disputed credits included. `total` (all ' +
      'accounts) equals the roll-forward’s closing at that instant. Accounts in id order, paged by `nextCursor`.',
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: LiabilityResponseDto })
  @ApiBadRequestResponse({ description: 'Bad currency, instant or cursor', type: ErrorResponseDto })
  async liability(@Query() query: LiabilityQueryDto): Promise<LiabilityResponseDto | StreamableFile> {
    const report = await this.finance.liability(query);
    return query.format === 'csv' ? csvFile(liabilityCsv(report), 'liability.csv') : report;
  }
}

function csvFile(text: string, name: string): StreamableFile {
  return new StreamableFile(Buffer.from(text, 'utf8'), {
    type: 'text/csv; charset=utf-8',
    disposition: `attachment; filename="${name}"`,
  });
}
