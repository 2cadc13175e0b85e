import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsString, Length } from 'class-validator';

import { FlatBody } from '../../common/validation/body-validation.pipe.js';
import { ApiInteger, ApiIntegerOptional } from '../../common/validation/integers.js';
import { RecordUsageDto } from './record-usage.dto.js';

export const MAX_BATCH_EVENTS = 1000;

export const BATCH_STATUSES = ['created', 'duplicate', 'insufficient_credits', 'invalid'] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

/**
 * One event of a batch: a usage record with its (required) event id, for the caller or (a service
 * principal) the user it names. Events name no API key: the batch counts against the calling key only.
 */
export class BatchEventDto extends OmitType(RecordUsageDto, ['eventId', 'apiKeyId'] as const) {
  @ApiProperty({
    example: 'evt-2026-11-21-000042',
    minLength: 1,
    maxLength: 100,
    description: 'Deduplicates per caller for at least 35 days (the same namespace as recordUsage’s eventId)',
  })
  @IsString()
  @Length(1, 100)
  eventId: string;
}

@FlatBody()
export class RecordBatchDto {
  @ApiProperty({
    type: [BatchEventDto],
    minItems: 1,
    maxItems: MAX_BATCH_EVENTS,
    description: 'Checked one by one: an event that is not valid is answered `invalid` and the others still apply',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH_EVENTS)
  events: unknown[];
}

export class BatchEventResultDto {
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'evt-2026-11-21-000042',
    description: 'null when not a string',
  })
  eventId: string | null;

  @ApiProperty({ enum: BATCH_STATUSES, example: 'created' })
  status: BatchStatus;

  @ApiPropertyOptional({
    format: 'uuid',
    example: '0b6f3c1e-2f6a-4e8e-9a51-6f0f5c7d9a10',
    description: 'The record created, or for a duplicate the one the first event with this id created',
  })
  usageRecordId?: string;

  @ApiIntegerOptional({ example: 12, description: 'Credits charged (created) or required (refused)' })
  credits?: number;

  @ApiPropertyOptional({
    example: 'INSUFFICIENT_CREDITS: Insufficient credits',
    description:
      'A refusal with a code says `CODE: message`. `insufficient_credits`: INSUFFICIENT_CREDITS, ' +
      'KEY_LIMIT_EXCEEDED (the API key’s budget), MEMBER_LIMIT_EXCEEDED or SPEND_RATE_LIMITED (the hourly spend ' +
      'limit; retry later); `invalid`: what is wrong with the event (NOT_A_MEMBER, MODEL_NOT_ENTITLED, …)',
  })
  error?: string;
}

export class RecordBatchResponseDto {
  @ApiInteger({ example: 2 })
  created: number;

  @ApiInteger({ example: 1 })
  duplicates: number;

  @ApiInteger({ example: 1, description: '`insufficient_credits` and `invalid` events' })
  rejected: number;

  @ApiProperty({ type: [BatchEventResultDto], description: 'One per event, in request order' })
  results: BatchEventResultDto[];
}
