import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsString, Matches, MaxLength } from 'class-validator';

import { IsInstant } from '../../common/validation/dates.js';
import { IsOptional } from '../../common/validation/optional.js';

export class PutSubscriptionDto {
  @ApiProperty({ example: 'pro', maxLength: 50 })
  @IsString()
  @IsNotEmpty()
  @Matches(/^[a-z0-9-]+$/, { message: 'planId may hold only lowercase letters, digits and -' })
  @MaxLength(50)
  planId: string;

  @ApiPropertyOptional({
    example: '2027-01-01T00:00:00.000Z',
    description:
      'Anchor of the periods (not in the past). Default: the anchor of the subscription this one replaces ' +
      '(or ended within its period in progress), so a change keeps the period; else now. Ignored when the ' +
      'plan does not change.',
  })
  @IsOptional()
  @IsInstant()
  startsAt?: string;
}

export class SubscriptionResponseDto {
  @ApiProperty({ example: 'bob' })
  userId: string;

  @ApiProperty({ example: 'pro' })
  planId: string;

  @ApiProperty({ example: '2026-11-22T12:00:00.000Z', description: 'The anchor of every period' })
  startsAt: string;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '2026-11-22T12:00:00.000Z',
    description: 'Start of the period in progress (null before startsAt)',
  })
  currentPeriodStart: string | null;

  @ApiProperty({ type: String, nullable: true, example: '2026-12-22T12:00:00.000Z' })
  currentPeriodEnd: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '2026-12-22T12:00:00.000Z',
    description: 'When the next allowance is granted (null when the plan is deactivated)',
  })
  nextGrantAt: string | null;
}
