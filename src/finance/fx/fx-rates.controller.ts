import { Body, Controller, Get, Put, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { Auth } from '../../auth/auth.decorator.js';
import { StaffRead } from '../../auth/staff-read.decorator.js';
import { domainErrorExample } from '../../common/errors/error-examples.js';
import { ErrorResponseDto } from '../../common/errors/error-response.dto.js';
import { FxRatesListResponseDto, FxRatesQueryDto, FxRatesResponseDto, PutFxRatesDto } from '../dto/fx-rates.dto.js';
import { FxRatesService } from './fx-rates.service.js';

/** FX rates by UTC day into REPORTING_CURRENCY (docs/finance.md "The reporting currency"). */
@ApiTags('finance')
@Controller('api/finance/fx-rates')
export class FxRatesController {
  constructor(private readonly rates: FxRatesService) {}

  @Put()
  @Auth('admin')
  @ApiOperation({
    operationId: 'putFxRates',
    summary: 'Store or replace one UTC day’s FX rates (admin)',
    description:
      'Each rate says how many units of REPORTING_CURRENCY one unit of the currency is worth, at most 10 ' +
      'significant digits. The day’s rates are replaced whole (a currency left out has no rate that day any ' +
      'more); a rate for the reporting currency itself must be 1 and is not stored. Reports converted into the ' +
      'reporting currency read the rates when they are asked: a rate stored for a past day converts that ' +
      'day’s ledger lines from then on. Audited as `finance.fx_rates`.',
  })
  @ApiBody({
    type: PutFxRatesDto,
    examples: {
      day: {
        summary: 'Three currencies into usd',
        value: { date: '2026-11-27', rates: { eur: '1.0812', jpy: '0.006712', kwd: '3.2605' } },
      },
    },
  })
  @ApiOkResponse({ type: FxRatesResponseDto, description: 'The day’s rates as stored' })
  @ApiBadRequestResponse({
    description:
      'A date that is not a UTC day, an unknown currency, or a rate that is not > 0 with at most 10 significant digits',
    type: ErrorResponseDto,
    examples: {
      rate: domainErrorExample(
        'VALIDATION',
        'rates.eur must have at most 10 significant digits',
        'A rate of more than 10 significant digits',
      ),
    },
  })
  put(@Body() body: PutFxRatesDto): Promise<FxRatesResponseDto> {
    return this.rates.put(body);
  }

  @Get()
  @StaffRead(
    'supervisor',
    FxRatesListResponseDto,
    'listFxRates',
    'The FX rates of the days from `from` to `to` (supervisor)',
    '`to` exclusive, at most 366 days; the days with rates, in day order.',
  )
  @ApiBadRequestResponse({ description: 'Bad dates or range', type: ErrorResponseDto })
  list(@Query() query: FxRatesQueryDto): Promise<FxRatesListResponseDto> {
    return this.rates.list(query);
  }
}
