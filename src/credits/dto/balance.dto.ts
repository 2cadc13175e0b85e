import { ApiProperty } from '@nestjs/swagger';

import { ApiInteger } from '../../common/validation/integers.js';
import { AllocationOriginDto } from './allocation-origin.dto.js';

export class ActiveAllocationDto extends AllocationOriginDto {
  @ApiProperty({ example: '5b0f3a52-8d4e-4f7e-9c1a-2f1e3d4c5b6a', format: 'uuid' })
  id: string;

  @ApiInteger({ example: 750, description: 'Credits left in this allocation' })
  credits: number;

  @ApiInteger({
    example: 1000,
    description: 'What this allocation originally granted (not what is left: that is `credits`)',
  })
  totalCredits: number;

  @ApiProperty({ example: '2026-12-21T12:00:00.000Z' })
  expiresAt: string;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  allocatedAt: string;

  @ApiProperty({ type: String, nullable: true, example: 'November top-up' })
  notes: string | null;
}

export class BalanceResponseDto {
  @ApiProperty({ example: 'alice' })
  userId: string;

  @ApiInteger({
    example: 750,
    description:
      'Credits the user can spend now (unexpired allocations, holds already excluded); inside ' +
      '`activeAllocations`, `totalCredits` means what each allocation originally granted',
  })
  totalCredits: number;

  @ApiInteger({ example: 24, description: 'Credits held by active streaming sessions' })
  heldCredits: number;

  @ApiInteger({
    example: 0,
    description: 'Credits owed: spent through the overdraft; the next grant repays them first',
  })
  debt: number;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'usd',
    description:
      'The currency the account pays in: set by its first paid purchase or first priced subscription, or by an ' +
      'admin; null until then',
  })
  billingCurrency: string | null;

  @ApiProperty({
    type: [ActiveAllocationDto],
    description: 'Unexpired allocations with credits left, soonest expiry first',
  })
  activeAllocations: ActiveAllocationDto[];
}
