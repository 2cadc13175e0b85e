import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsUUID } from 'class-validator';

import { PageQueryDto, PageResponseDto } from '../../common/http/pagination.js';
import { IsInstant } from '../../common/validation/dates.js';
import { OptionalUserId } from '../../common/validation/ids.js';
import { ApiInteger } from '../../common/validation/integers.js';
import { IsOptional } from '../../common/validation/optional.js';
import { LEDGER_KINDS, type LedgerKind } from '../../engine/credit-views.js';

export class LedgerQueryDto extends PageQueryDto {
  @OptionalUserId('Whose ledger (default: the caller; others need supervisor)')
  userId?: string;

  @ApiPropertyOptional({ enum: LEDGER_KINDS, example: 'void', description: 'Only entries of this kind' })
  @IsOptional()
  @IsIn(LEDGER_KINDS)
  kind?: LedgerKind;

  @ApiPropertyOptional({
    example: '2026-11-01',
    description: 'Entries at or after; YYYY-MM-DD (00:00 UTC) or an ISO-8601 date-time',
  })
  @IsOptional()
  @IsInstant()
  from?: string;

  @ApiPropertyOptional({
    example: '2026-11-30',
    description: 'Entries at or before; a date-only value includes that UTC day',
  })
  @IsOptional()
  @IsInstant()
  to?: string;

  @ApiPropertyOptional({
    format: 'uuid',
    example: '5b0f3a52-8d4e-4f7e-9c1a-2f1e3d4c5b6a',
    description: 'Only entries of this allocation',
  })
  @IsOptional()
  @IsUUID('all')
  allocationId?: string;
}

export class LedgerEntryDto {
  @ApiProperty({ example: '1042', description: 'Increasing with insertion order' })
  id: string;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'alice',
    description: 'The user the entry is of (null for an organisation’s grants, voids and expiries)',
  })
  userId: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description:
      'The organisation whose account the entry is in (then `userId`, when set, is the member who spent); null for a user’s',
  })
  orgId: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '5b0f3a52-8d4e-4f7e-9c1a-2f1e3d4c5b6a',
    format: 'uuid',
    description: 'Null for overdraft entries: credits spent beyond the balance, owed as debt',
  })
  allocationId: string | null;

  @ApiProperty({ enum: LEDGER_KINDS, example: 'debit' })
  kind: (typeof LEDGER_KINDS)[number];

  @ApiInteger({ example: -3, description: 'Signed change of the allocation’s remaining credits' })
  amount: number;

  @ApiInteger({ example: 747, description: 'The user’s available credits after this entry' })
  balanceAfter: number;

  @ApiProperty({ type: String, nullable: true, example: null })
  sessionId: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f' })
  usageRecordId: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    format: 'uuid',
    example: null,
    description:
      'The correction that moved it (the `id` its answer carries, beside the record’s `usageRecordId`): ' +
      '`correction` entries and the release of a corrected session’s hold; null otherwise',
  })
  usageCorrectionId: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    format: 'uuid',
    example: null,
    description: 'The API key the entry was made through; null for a JWT or a job',
  })
  apiKeyId: string | null;

  @ApiProperty({ example: 'alice' })
  createdBy: string;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  createdAt: string;

  @ApiPropertyOptional({
    example: '-3.33',
    description:
      'The money it moved on a valued allocation, signed like amount, in the currency’s minor unit places ' +
      '(docs/finance.md); absent on a promotional one',
  })
  value?: string;

  @ApiPropertyOptional({ example: 'usd', description: 'The currency of value (ISO 4217); absent with it' })
  currency?: string;
}

export class LedgerListResponseDto extends PageResponseDto(LedgerEntryDto) {}
