import type { Readable } from 'node:stream';

import { Controller, Get, Query, StreamableFile } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';

import { Auth } from '../auth/auth.decorator.js';
import { domainErrorExample } from '../common/errors/error-examples.js';
import { ErrorResponseDto, FxRateMissingResponseDto } from '../common/errors/error-response.dto.js';
import { ApiHeavyReadRefusals } from '../database/heavy-read-refusals.decorator.js';
import {
  LiabilityQueryDto,
  LiabilityResponseDto,
  RollForwardQueryDto,
  RollForwardResponseDto,
} from './dto/finance.dto.js';
import { FinanceService } from './finance.service.js';

/** 422 of a read converted into the reporting currency that needs a day without a rate. */
const ApiFxRateMissing = () =>
  ApiUnprocessableEntityResponse({
    description:
      'reportingCurrency=: a day whose valued ledger lines need a rate that is not stored (FX_RATE_MISSING: ' +
      '`days`, and `missing`, each day’s currency pairs without a rate)',
    type: FxRateMissingResponseDto,
    examples: {
      missing: domainErrorExample(
        'FX_RATE_MISSING',
        'No FX rate into usd is stored for 2026-11-02, 2026-11-03',
        'Two days without a rate',
        {
          days: ['2026-11-02', '2026-11-03'],
          missing: [
            { day: '2026-11-02', from: 'eur', to: 'usd' },
            { day: '2026-11-03', from: 'eur', to: 'usd' },
            { day: '2026-11-03', from: 'jpy', to: 'usd' },
          ],
        },
      ),
    },
  });

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
      'exactly, in the currency’s minor unit places; with `reportingCurrency` (instead of `currency`) every ' +
      'currency’s ledger lines converted at their own UTC day’s FX rate and rounded line by line, so the identity ' +
      'holds exactly there too; `disputed` is the frozen part of closing; `promotional` ' +
      'counts credits of promotional allocations. `groupBy=account` adds a page of the accounts with a movement or a ' +
      'balance in the range (`limit`, `cursor`, `nextCursor`); `format=csv` streams text/csv, every account from the ' +
      'cursor on. A heavy read: at most HEAVY_READS_CONCURRENCY at once (429 beyond), stopped after ' +
      'HEAVY_READ_TIMEOUT_SECONDS (503 TIMEOUT).',
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: RollForwardResponseDto })
  @ApiBadRequestResponse({
    description: 'Bad currency (or both currency and reportingCurrency), dates, range, limit or cursor',
    type: ErrorResponseDto,
  })
  @ApiFxRateMissing()
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
      'accounts) equals the roll-forward’s closing at that instant; with `reportingCurrency` converted line by line ' +
      'as the roll-forward is. Accounts in id order, paged in the database by ' +
      '`limit` and `nextCursor`; `format=csv` streams every account from the cursor on. A heavy read (429, 503 TIMEOUT).',
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: LiabilityResponseDto })
  @ApiBadRequestResponse({
    description: 'Bad currency (or both currency and reportingCurrency), instant or cursor',
    type: ErrorResponseDto,
  })
  @ApiFxRateMissing()
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
