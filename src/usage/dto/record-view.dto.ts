import { ApiProperty } from '@nestjs/swagger';

import { PageResponseDto } from '../../common/http/pagination.js';
import { ApiInteger } from '../../common/validation/integers.js';
import { RecordCorrectionDto } from './record-correction.dto.js';
import { UsageRecordResponseDto } from './record-usage.dto.js';

/** A record as the lists show it: with its net credits and its corrections (docs/usage.md "Corrections"). */
export class UsageRecordViewDto extends UsageRecordResponseDto {
  @ApiInteger({
    example: 12,
    description:
      'What it charges now: its credits and its corrections’ deltas, with the shortfall its review still has open',
  })
  netCredits: number;

  @ApiProperty({
    type: [RecordCorrectionDto],
    description: 'Its last 10 corrections, oldest of them first (correctionCount says how many it has)',
  })
  corrections: RecordCorrectionDto[];

  @ApiInteger({
    example: 1,
    description: 'How many corrections it has taken (at most CORRECTIONS_PER_RECORD, default 100)',
  })
  correctionCount: number;
}

export class UsageRecordListResponseDto extends PageResponseDto(UsageRecordViewDto) {}
