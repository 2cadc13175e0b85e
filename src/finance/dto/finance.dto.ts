import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsString, Matches } from 'class-validator';

import { IsInstant } from '../../common/validation/dates.js';
import { AmountsOf, CountsOf } from '../../common/validation/figures.js';
import { ApiInteger, ApiIntegerOptional } from '../../common/validation/integers.js';
import { IsOptional } from '../../common/validation/optional.js';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Which money a finance read answers in: one currency as it is, or every currency converted into the reporting one. */
export class CurrencyChoiceDto {
  @ApiPropertyOptional({
    example: 'usd',
    description:
      'ISO 4217 code, lowercase: that currency’s money as it is (not beside reportingCurrency; without either, ' +
      'every currency converted into REPORTING_CURRENCY)',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z]{3}$/, { message: 'currency must be an ISO 4217 code in lowercase' })
  currency?: string;

  @ApiPropertyOptional({
    example: 'usd',
    description:
      'REPORTING_CURRENCY: every currency’s money converted into it, each ledger line at its own UTC day’s ' +
      'stored FX rate and rounded to its minor unit (half away from zero); a day without a rate → 422 ' +
      'FX_RATE_MISSING (the default; not beside currency)',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z]{3}$/, { message: 'reportingCurrency must be an ISO 4217 code in lowercase' })
  reportingCurrency?: string;
}

export class RollForwardQueryDto extends CurrencyChoiceDto {
  @ApiProperty({ format: 'date', example: '2026-01-01', description: 'The first UTC day (YYYY-MM-DD)' })
  @Matches(DATE, { message: 'from must be a date (YYYY-MM-DD)' })
  from: string;

  @ApiProperty({
    format: 'date',
    example: '2026-04-01',
    description: 'The UTC day after the last one (exclusive; at most 366 days)',
  })
  @Matches(DATE, { message: 'to must be a date (YYYY-MM-DD)' })
  to: string;

  @ApiPropertyOptional({ enum: ['month', 'day'], default: 'month' })
  @IsOptional()
  @IsIn(['month', 'day'])
  interval?: 'month' | 'day';

  @ApiPropertyOptional({
    enum: ['account'],
    description: 'Each account’s figures too, a page at a time: those with a movement or a balance in the range',
  })
  @IsOptional()
  @IsIn(['account'])
  groupBy?: 'account';

  @ApiPropertyOptional({ description: 'With groupBy=account: nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  cursor?: string;

  @ApiIntegerOptional({
    minimum: 1,
    maximum: 1000,
    default: 100,
    description:
      'With groupBy=account: accounts per page (CSV: every account from the cursor on). A page also holds at ' +
      'most 36,600 account periods (accounts × periods): by day over a year at most 100 accounts, by month ' +
      'over a year 1,000; a larger limit gives that many and a nextCursor',
  })
  @IsOptional()
  @Matches(/^(1000|[1-9]\d{0,2})$/, { message: 'limit must be an integer from 1 to 1000' })
  limit?: string;

  @ApiPropertyOptional({ enum: ['json', 'csv'], default: 'json' })
  @IsOptional()
  @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';
}

export class LiabilityQueryDto extends CurrencyChoiceDto {
  @ApiPropertyOptional({ example: '2026-03-31T23:59:59Z', description: 'The instant (default: now)' })
  @IsOptional()
  @IsInstant()
  at?: string;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  cursor?: string;

  @ApiIntegerOptional({
    minimum: 1,
    maximum: 1000,
    default: 100,
    description: 'Accounts per page (CSV: every account from the cursor on)',
  })
  @IsOptional()
  @Matches(/^(1000|[1-9]\d{0,2})$/, { message: 'limit must be an integer from 1 to 1000' })
  limit?: string;

  @ApiPropertyOptional({ enum: ['json', 'csv'], default: 'json' })
  @IsOptional()
  @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';
}

/** A roll-forward's money columns (docs/finance.md "The roll-forward"). */
export class MoneyFiguresDto extends AmountsOf({
  opening: ['1200.00', 'The liability at the start'],
  purchased: '500.00',
  sold: '0.00',
  recognized: ['412.37', 'Revenue: credits consumed, net of usage corrections'],
  corrected: [
    '-1.20',
    'The money of usage corrections, already inside recognized (positive: more taken; negative: given back)',
  ],
  expired: ['12.50', 'Breakage: credits expired unused'],
  refunded: '6.67',
  chargedBack: '0.00',
  voided: '0.00',
  transferredIn: '4.00',
  transferredOut: '4.00',
  closing: ['1268.46', 'The liability at the end'],
  disputed: ['9.00', 'The part of closing frozen by open disputes'],
}) {}

export class PeriodFiguresDto extends MoneyFiguresDto {
  @ApiProperty({ example: '2026-01-01T00:00:00.000Z' })
  start: string;
  @ApiProperty({ example: '2026-02-01T00:00:00.000Z' })
  end: string;
}

/** The promotional credits' columns: credits, not money. */
export class PromotionalFiguresDto extends CountsOf({
  opening: 5000,
  granted: 1000,
  consumed: 800,
  expired: 100,
  voided: 0,
  transferredIn: 0,
  transferredOut: 0,
  closing: 5100,
}) {}

export class AccountRollForwardDto {
  @ApiPropertyOptional({ example: 'alice', description: 'A user’s account (else orgId)' })
  userId?: string;
  @ApiPropertyOptional({ example: 'acme', description: 'An organisation’s account (else userId)' })
  orgId?: string;
  @ApiProperty({ type: [PeriodFiguresDto] })
  periods: PeriodFiguresDto[];
  @ApiProperty({ type: MoneyFiguresDto })
  totals: MoneyFiguresDto;
  @ApiProperty({ type: PromotionalFiguresDto })
  promotional: PromotionalFiguresDto;
}

export class RollForwardResponseDto {
  @ApiProperty({ example: 'usd', description: 'The currency of the figures' })
  currency: string;
  @ApiPropertyOptional({
    example: 'usd',
    description: 'With reportingCurrency=: every currency’s money converted into it, line by line',
  })
  reportingCurrency?: string;
  @ApiProperty({ enum: ['month', 'day'], example: 'month' })
  interval: 'month' | 'day';
  @ApiProperty({ type: [PeriodFiguresDto] })
  periods: PeriodFiguresDto[];
  @ApiProperty({ type: MoneyFiguresDto })
  totals: MoneyFiguresDto;
  @ApiProperty({ type: PromotionalFiguresDto, description: 'Credits of promotional allocations (not money)' })
  promotional: PromotionalFiguresDto;
  @ApiPropertyOptional({
    type: [AccountRollForwardDto],
    description:
      'With groupBy=account: one page of the accounts with a movement or a balance in the range, in id order',
  })
  accounts?: AccountRollForwardDto[];
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: null,
    description: 'With groupBy=account: the cursor of the next page of accounts (null: the last page)',
  })
  nextCursor?: string | null;
}

export class LiabilityAccountDto {
  @ApiPropertyOptional({ example: 'alice' })
  userId?: string;
  @ApiPropertyOptional({ example: 'acme' })
  orgId?: string;
  @ApiInteger({ example: 667, description: 'Valued credits left (held and disputed ones included)' })
  credits: number;
  @ApiProperty({ example: '6.67' })
  value: string;
}

export class LiabilityResponseDto {
  @ApiProperty({ example: '2026-03-31T23:59:59.000Z' })
  at: string;
  @ApiProperty({ example: 'usd', description: 'The currency of the figures' })
  currency: string;
  @ApiPropertyOptional({
    example: 'usd',
    description: 'With reportingCurrency=: every currency’s money converted into it, line by line',
  })
  reportingCurrency?: string;
  @ApiProperty({ example: '1268.46', description: 'All accounts’ money: the roll-forward’s closing at that instant' })
  total: string;
  @ApiProperty({ type: [LiabilityAccountDto] })
  accounts: LiabilityAccountDto[];
  @ApiProperty({ type: String, nullable: true, example: null })
  nextCursor: string | null;
}
