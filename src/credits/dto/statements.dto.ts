import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsString, Matches } from 'class-validator';

import { ApiInteger } from '../../common/validation/integers.js';
import { IsOptional } from '../../common/validation/optional.js';

export const STATEMENT_FORMATS = ['json', 'csv', 'pdf'] as const;
export type StatementFormat = (typeof STATEMENT_FORMATS)[number];

export class StatementQueryDto {
  @ApiPropertyOptional({
    example: '2026-11',
    pattern: '^\\d{4}-(0[1-9]|1[0-2])$',
    description: 'The UTC month, `YYYY-MM` (default: the current one); a month that has not begun → 400',
  })
  @IsOptional()
  @IsString()
  @Matches(/^\d{4}-(0[1-9]|1[0-2])$/, { message: 'month must be YYYY-MM' })
  month?: string;

  @ApiPropertyOptional({ enum: STATEMENT_FORMATS, default: 'json', example: 'json' })
  @IsOptional()
  @IsIn(STATEMENT_FORMATS)
  format?: StatementFormat;
}

/** The kinds of a statement's lines (docs/statements.md), as finance's `statementLines()` names them. */
export const STATEMENT_KINDS = [
  'purchase',
  'grant',
  'plan',
  'promotion',
  'transfer_in',
  'transfer_out',
  'usage',
  'expiry',
  'refund',
  'chargeback',
  'void',
  'debt',
  'correction',
] as const;
export type StatementKind = (typeof STATEMENT_KINDS)[number];

export class StatementLineDto {
  @ApiProperty({ format: 'date', example: '2026-11-03', description: 'The UTC day' })
  date: string;

  @ApiProperty({ enum: STATEMENT_KINDS, example: 'usage' })
  kind: StatementKind;

  @ApiInteger({ example: -333, description: 'Signed: what the line added to the credits' })
  credits: number;

  @ApiPropertyOptional({
    example: '-3.33',
    description:
      'The money of the line’s credits (decimal, signed like them), when they were paid for; absent for ' +
      'promotional credits, and on a usage line whose credits came from lots of several currencies',
  })
  value?: string;

  @ApiPropertyOptional({ example: 'usd', description: 'The currency of `value`' })
  currency?: string;

  @ApiProperty({ example: 'Usage on 2026-11-03 (UTC)' })
  description: string;
}

export class StatementUsageDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: { chat: 333 },
    description: 'Credits of the month’s usage records by service',
  })
  byService: Record<string, number>;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: { 'anthropic.claude-sonnet-4-5': 333 },
    description: 'By model (`none`: records without one)',
  })
  byModel: Record<string, number>;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: { default: 333 },
    description: 'Credits by the service tier the records were priced at (`default`: the base prices)',
  })
  byServiceTier: Record<string, number>;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: {},
    description: 'Counts of each unit the records priced (such as web_search_call)',
  })
  unitsByName: Record<string, number>;
}

export class StatementResponseDto {
  @ApiPropertyOptional({ example: 'alice', description: 'A user’s account (or orgId)' })
  userId?: string;

  @ApiPropertyOptional({ example: 'acme', description: 'An organisation’s account (or userId)' })
  orgId?: string;

  @ApiProperty({ example: '2026-11' })
  month: string;

  @ApiInteger({ example: 0, description: 'Credits at the start of the month' })
  openingCredits: number;

  @ApiInteger({
    example: 667,
    description:
      'Credits at the end of the month (now, for the current one): openingCredits + Σ lines’ credits. ' +
      'Credits held by an open session still count: a hold has not consumed them',
  })
  closingCredits: number;

  @ApiProperty({ type: [StatementLineDto] })
  lines: StatementLineDto[];

  @ApiProperty({ type: StatementUsageDto })
  usage: StatementUsageDto;
}
