import type { Readable } from 'node:stream';

import { Controller, Get, Query, StreamableFile } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';

import { Auth } from '../auth/auth.decorator.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import { ApiHeavyReadRefusals } from '../database/heavy-read-refusals.decorator.js';
import {
  LiabilityQueryDto,
  LiabilityResponseDto,
  RollForwardQueryDto,
  RollForwardResponseDto,
} from './dto/finance.dto.js';
import { FinanceService } from './finance.service.js';

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
      'counts credits of promotional allocations. `groupBy=account` adds a page of the accounts with a movement or a ' +
      'balance in the range (`limit`, `cursor`, `nextCursor`); `format=csv` streams text/csv, every account from the ' +
      'cursor on. A heavy read: at most HEAVY_READS_CONCURRENCY at once (429 beyond), stopped after ' +
      'HEAVY_READ_TIMEOUT_SECONDS (503 TIMEOUT).',
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: RollForwardResponseDto })
  @ApiBadRequestResponse({ description: 'Bad currency, dates, range, limit or cursor', type: ErrorResponseDto })
  @ApiHeavyReadRefusals()
  async rollForward(@Query() query: RollForwardQueryDto): Promise<RollForwardResponseDto | StreamableFile> {
    if (query.format === 'csv') return csvFile(await this.finance.rollForwardCsv(query), 'rollforward.csv');
    if (query.groupBy === 'account')
      return streamed(await this.finance.rollForwardByAccount(query), 'application/json');
    return this.finance.rollForward(query);
  }

  @Get('liability')
  @Auth('supervisor')
  @ApiOperation({
    operationId: 'getFinanceLiability',
    summary: 'Every account’s valued credits and their money at an instant (supervisor)',
    description:
      'From the ledger, as they stood at `at` (default now): held and disputed credits included. `total` (all ' +
      'accounts) equals the roll-forward’s closing at that instant. Accounts in id order, paged in the database by ' +
      '`limit` and `nextCursor`; `format=csv` streams every account from the cursor on. A heavy read (429, 503 TIMEOUT).',
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: LiabilityResponseDto })
  @ApiBadRequestResponse({ description: 'Bad currency, instant or cursor', type: ErrorResponseDto })
  @ApiHeavyReadRefusals()
  async liability(@Query() query: LiabilityQueryDto): Promise<LiabilityResponseDto | StreamableFile> {
    if (query.format === 'csv') return csvFile(await this.finance.liabilityCsv(query), 'liability.csv');
    return this.finance.liability(query);
  }
}

/** A CSV streamed as it is read, to download. */
function csvFile(stream: Readable, name: string): StreamableFile {
  return streamed(stream, 'text/csv', `attachment; filename="${name}"`);
}

/** A body streamed as it is read; a read that fails midway breaks the transfer rather than end a short body. */
function streamed(stream: Readable, type: string, disposition?: string): StreamableFile {
  return new StreamableFile(stream, { type: `${type}; charset=utf-8`, disposition }).setErrorHandler((_error, res) => {
    (res as { destroy?: () => void }).destroy?.();
  });
}
