import { ApiProperty, PickType } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

import { CorrectionReason, CreditsDelta } from '../../common/validation/corrections.js';
import { ApiInteger } from '../../common/validation/integers.js';
import { TOKEN_FIELDS } from '../../pricing/token-kinds.js';
import { RecordUsageDto } from './record-usage.dto.js';

/**
 * What a usage record should have cost (docs/usage.md "Corrections"): `credits` outright, or counts
 * priced with the record's model at the rule and account price in force at the record's time (the
 * token kinds, `tokens`, `units`), or the provider's usage object. Exactly one way.
 */
export class CorrectUsageDto extends PickType(RecordUsageDto, [
  'credits',
  'tokens',
  // Every token kind's count, from the one list (a record takes each: test/unit/token-kinds.spec.ts).
  ...TOKEN_FIELDS,
  'providerUsage',
  'units',
] as const) {
  @ApiProperty({
    example: 'ticket-4711',
    minLength: 1,
    maxLength: 100,
    description:
      'The caller’s id of this correction, unique per record: the same id again answers 200 with the first ' +
      'correction and moves nothing; with another body → 422 CORRECTION_ID_REUSED',
  })
  @IsString()
  @Length(1, 100)
  correctionId: string;

  @CorrectionReason('The chat backend double-counted output tokens')
  reason: string;
}

export class UsageCorrectionResponseDto {
  @ApiProperty({ format: 'uuid', example: '0193a8f2-6c1d-7e3a-9b2f-4d5e6f708192' })
  id: string;

  @ApiProperty({ format: 'uuid', example: '0193a8f0-1b2c-7d3e-8f4a-5b6c7d8e9f01' })
  recordId: string;

  @ApiProperty({ example: 'ticket-4711' })
  correctionId: string;

  @ApiInteger({ example: 12, description: 'The record’s net credits before the correction' })
  previousCredits: number;

  @ApiInteger({ example: 8, description: 'Its net credits after' })
  credits: number;

  @CreditsDelta(-4, 'credits − previousCredits')
  delta: number;

  @ApiProperty({ example: 'The chat backend double-counted output tokens' })
  reason: string;

  @ApiProperty({ example: 'admin-1' })
  createdBy: string;

  @ApiProperty({ example: '2026-11-25T12:00:00.000Z' })
  createdAt: string;
}
