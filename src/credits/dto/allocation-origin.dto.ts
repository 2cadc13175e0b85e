import { ApiProperty } from '@nestjs/swagger';

import { ALLOCATION_SOURCES, type AllocationSource } from '../../engine/credit-views.js';

/** Where an allocation came from; shown in allocation and balance views. */
export class AllocationOriginDto {
  @ApiProperty({
    enum: ALLOCATION_SOURCES,
    example: 'manual',
    description:
      'manual (allocate), plan (a period’s allowance), rollover (unused credits of the period before), transfer ' +
      '(a lot of a transfer from another account, its expiry kept) or purchase (a paid purchase, see purchaseId)',
  })
  source: AllocationSource;

  @ApiProperty({ type: String, nullable: true, example: null, description: 'The plan, for plan and rollover' })
  planId: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description: 'Start of the subscription period the credits belong to, for plan and rollover',
  })
  periodStart: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    format: 'uuid',
    example: null,
    description: 'The purchase that granted it, for purchase (null otherwise)',
  })
  purchaseId: string | null;
}
