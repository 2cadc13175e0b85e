import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn } from 'class-validator';

import { PageQueryDto, PageResponseDto } from '../../common/http/pagination.js';
import { IsUserId } from '../../common/validation/ids.js';
import { IsOptional } from '../../common/validation/optional.js';
import { EVENT_TYPES, type EventType } from '../event-types.js';

export class EventsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: EVENT_TYPES, example: 'balance.low' })
  @IsOptional()
  @IsIn(EVENT_TYPES)
  type?: EventType;

  @ApiPropertyOptional({ example: 'alice', maxLength: 50 })
  @IsOptional()
  @IsUserId()
  userId?: string;
}

export class EventResponseDto {
  @ApiProperty({ example: '3f6a9c2e-1b4d-4e8f-a7c5-9d0e2f4b6a81', format: 'uuid' })
  id: string;

  @ApiProperty({ enum: EVENT_TYPES, example: 'balance.low' })
  type: EventType;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  createdAt: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { userId: 'alice', threshold: 100, balance: 80 },
    description: "The type's payload (see the event catalogue in docs/webhooks.md)",
  })
  data: Record<string, unknown>;
}

export class EventListResponseDto extends PageResponseDto(EventResponseDto) {}
