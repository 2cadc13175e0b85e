import { ApiProperty } from '@nestjs/swagger';
import { IsObject, IsString } from 'class-validator';

const RATES_EXAMPLE = { eur: '1.0812', jpy: '0.006712', kwd: '3.2605' };
const RATES_SCHEMA = {
  type: 'object',
  additionalProperties: { type: 'string' },
  example: RATES_EXAMPLE,
  description:
    'Currency (ISO 4217, lowercase) → how many units of REPORTING_CURRENCY one unit of it is worth: a decimal ' +
    'string > 0 of at most 10 significant digits',
} as const;

export class PutFxRatesDto {
  @ApiProperty({ format: 'date', example: '2026-11-27', description: 'The UTC day (YYYY-MM-DD)' })
  @IsString()
  date: string;

  @ApiProperty(RATES_SCHEMA)
  @IsObject()
  rates: Record<string, string>;
}

export class FxRatesQueryDto {
  @ApiProperty({ format: 'date', example: '2026-11-01', description: 'The first UTC day (YYYY-MM-DD)' })
  @IsString()
  from: string;

  @ApiProperty({
    format: 'date',
    example: '2026-12-01',
    description: 'The UTC day after the last one (exclusive; at most 366 days)',
  })
  @IsString()
  to: string;
}

export class FxDayRatesDto {
  @ApiProperty({ format: 'date', example: '2026-11-27' })
  date: string;

  @ApiProperty(RATES_SCHEMA)
  rates: Record<string, string>;
}

export class FxRatesResponseDto extends FxDayRatesDto {
  @ApiProperty({ example: 'usd', description: 'REPORTING_CURRENCY: the currency the rates are in' })
  base: string;
}

export class FxRatesListResponseDto {
  @ApiProperty({ example: 'usd', description: 'REPORTING_CURRENCY: the currency the rates are in' })
  base: string;

  @ApiProperty({ format: 'date', example: '2026-11-01' })
  from: string;

  @ApiProperty({ format: 'date', example: '2026-12-01' })
  to: string;

  @ApiProperty({ type: [FxDayRatesDto], description: 'The days with rates, in day order' })
  days: FxDayRatesDto[];
}
