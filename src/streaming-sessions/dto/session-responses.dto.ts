import { ApiProperty } from '@nestjs/swagger';

import { PageResponseDto } from '../../common/http/pagination.js';
import { ApiInteger } from '../../common/validation/integers.js';
import type { Units } from '../../pricing/dimensions.js';
import { ServiceTierAnswer, UnitsAnswer } from '../../pricing/dto/dimensions.dto.js';
import { SESSION_STATUSES, type SessionStatus } from '../entities/streaming-session.entity.js';

export class SessionResponseDto {
  @ApiProperty({ example: 'chat-7f3c2a9e-1b4d-4c1e-9f8a-2d6b5e4c3a21' })
  sessionId: string;

  @ApiProperty({ example: 'alice' })
  userId: string;

  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description: 'The organisation the session holds and settles on (userId: the member); null: the user’s account',
  })
  orgId: string | null;

  @ApiProperty({ example: 'anthropic.claude-3-sonnet-20240229-v1:0' })
  modelId: string;

  @ApiInteger({ example: 6, description: 'The estimate priced at the rule in effect at startedAt' })
  estimatedCredits: number;

  @ApiInteger({ example: 8, description: 'Credits held: ceil(estimatedCredits × 6 / 5)' })
  allocatedCredits: number;

  @ApiInteger({
    example: 0,
    description: 'Always 0 while the session is active: nothing is charged before settlement',
  })
  usedCredits: number;

  @ApiProperty({ enum: SESSION_STATUSES, example: 'active' })
  status: SessionStatus;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  startedAt: string;

  @ApiProperty({
    example: '2026-11-21T13:00:00.000Z',
    description:
      'startedAt + STREAMING_SESSION_TTL_SECONDS; an active session is expired (charged its estimate) after it',
  })
  expiresAt: string;

  @ServiceTierAnswer(
    'The service tier initialize named (auto: held at the rule’s most expensive tier; null: the base prices); ' +
      'the settlement’s usage record keeps the tier it was settled at',
  )
  serviceTier: string | null;

  @UnitsAnswer('The estimate’s units, held with its tokens (null: none)')
  estimatedUnits: Units | null;
}

export class SessionListResponseDto extends PageResponseDto(SessionResponseDto) {}

export class FinalizeResponseDto {
  @ApiProperty({ example: 'chat-7f3c2a9e-1b4d-4c1e-9f8a-2d6b5e4c3a21' })
  sessionId: string;

  @ApiProperty({ example: 'alice', description: 'The billed user (session ids are per user)' })
  userId: string;

  @ApiProperty({ enum: ['completed', 'failed'], example: 'completed' })
  status: 'completed' | 'failed';

  @ApiInteger({ example: 6 })
  estimatedCredits: number;

  @ApiInteger({ example: 8 })
  allocatedCredits: number;

  @ApiInteger({
    example: 6,
    description: 'The real tokens priced at the rule in effect when the session started',
  })
  actualCredits: number;

  @ApiInteger({
    example: 2,
    description: 'Held credits given back to the allocations they were held from (same expiry)',
  })
  refund: number;

  @ApiInteger({
    example: 0,
    description: 'Overrun the balance could not pay; the usage record is then marked needs_review',
  })
  shortfall: number;
}

export class AbortResponseDto {
  @ApiProperty({ example: 'chat-7f3c2a9e-1b4d-4c1e-9f8a-2d6b5e4c3a21' })
  sessionId: string;

  @ApiProperty({ example: 'alice', description: 'The billed user (session ids are per user)' })
  userId: string;

  @ApiProperty({ enum: ['aborted'], example: 'aborted' })
  status: 'aborted';

  @ApiInteger({
    example: 1,
    description: 'The tokens generated before the abort, priced at the session’s start price',
  })
  partialCredits: number;

  @ApiInteger({ example: 7 })
  refund: number;

  @ApiInteger({ example: 0 })
  shortfall: number;
}
