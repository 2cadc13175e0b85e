import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

import { PageQueryDto } from '../../common/http/pagination.js';
import { CorrectionReason, CreditsDelta } from '../../common/validation/corrections.js';
import { ApiInteger } from '../../common/validation/integers.js';
import { SimulationDto } from './simulations.dto.js';

/** A re-rate's states (`pricing_rerates.status`, the rerates module's table). */
export const RERATE_STATUSES = ['running', 'completed', 'failed'] as const;
export type RerateStatus = (typeof RERATE_STATUSES)[number];

export class CreateRerateDto extends OmitType(SimulationDto, ['groupBy'] as const) {
  @ApiProperty({
    example: 'haiku-typo-2026-11',
    minLength: 1,
    maxLength: 100,
    description:
      'Your id of the re-rate: its corrections are `rerate:<rerateId>`; the same id again answers that re-rate (200), ' +
      'with another body 422 RERATE_ID_REUSED',
  })
  @IsString()
  @Length(1, 100)
  rerateId: string;

  @CorrectionReason('Haiku input was priced at 2.5 instead of 0.25 from Nov 3')
  reason: string;
}

export class RerateResponseDto {
  @ApiProperty({ format: 'uuid', example: '0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a61' })
  id: string;

  @ApiProperty({ example: 'haiku-typo-2026-11' })
  rerateId: string;

  @ApiProperty({ enum: RERATE_STATUSES, example: 'running' })
  status: RerateStatus;

  @ApiInteger({ example: 1200, description: 'Records of the range examined so far' })
  records: number;

  @ApiInteger({ example: 1187, description: 'Records corrected so far (one correction each)' })
  corrected: number;

  @CreditsDelta(-21366, 'Σ the corrections’ deltas, in credits')
  delta: number;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z', description: 'The range’s first instant of occurredAt' })
  from: string;

  @ApiProperty({ example: '2026-12-01T00:00:00.000Z', description: 'The instant after its last (exclusive)' })
  to: string;

  @ApiProperty({ type: String, nullable: true, example: null })
  userId: string | null;

  @ApiProperty({ type: String, nullable: true, example: null })
  orgId: string | null;

  @ApiProperty({ example: 'Haiku input was priced at 2.5 instead of 0.25 from Nov 3' })
  reason: string;

  @ApiProperty({ example: 'admin-1' })
  createdBy: string;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  startedAt: string;

  @ApiProperty({ type: String, nullable: true, example: null })
  finishedAt: string | null;

  @ApiProperty({ type: String, nullable: true, example: null, description: 'Why it failed (status `failed`)' })
  lastError: string | null;
}

export class RerateListResponseDto {
  @ApiProperty({ type: [RerateResponseDto] })
  items: RerateResponseDto[];

  @ApiPropertyOptional({ type: String, nullable: true, example: null })
  nextCursor: string | null;
}

export class ListReratesQueryDto extends PageQueryDto {}
