import { ApiProperty, OmitType } from '@nestjs/swagger';

import { ListAllocationsQueryDto } from '../../credits/dto/allocations.dto.js';
import { BalanceResponseDto } from '../../credits/dto/balance.dto.js';
import { LedgerQueryDto } from '../../credits/dto/ledger.dto.js';
import { AlertThresholdsResponseDto, CreditLimitsResponseDto } from '../../credits/dto/limits.dto.js';
import { SubscriptionResponseDto } from '../../plans/dto/subscription.dto.js';
import { UserUsageStatsResponseDto } from '../../usage/dto/usage-stats.dto.js';

/** The org's balance: the user balance's shape with `orgId` for `userId`. */
export class OrgBalanceResponseDto extends OmitType(BalanceResponseDto, ['userId'] as const) {
  @ApiProperty({ example: 'acme' })
  orgId: string;
}

export class OrgAllocationsQueryDto extends OmitType(ListAllocationsQueryDto, ['userId'] as const) {}

export class OrgLedgerQueryDto extends OmitType(LedgerQueryDto, ['userId'] as const) {}

export class OrgUsageStatsResponseDto extends OmitType(UserUsageStatsResponseDto, ['userId'] as const) {
  @ApiProperty({ example: 'acme' })
  orgId: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: { alice: 1200, bob: 300 },
    description: 'Credits charged to the org per member (the user who used them)',
  })
  byMember: Record<string, number>;
}

export class OrgLimitsResponseDto extends OmitType(CreditLimitsResponseDto, ['userId'] as const) {
  @ApiProperty({ example: 'acme' })
  orgId: string;
}

export class OrgAlertThresholdsResponseDto extends OmitType(AlertThresholdsResponseDto, ['userId', 'source'] as const) {
  @ApiProperty({ example: 'acme' })
  orgId: string;

  @ApiProperty({
    enum: ['org', 'default'],
    example: 'org',
    description: '`org`: set for this organisation (PUT); `default`: LOW_BALANCE_THRESHOLDS applies',
  })
  source: 'org' | 'default';
}

export class OrgSubscriptionResponseDto extends OmitType(SubscriptionResponseDto, ['userId'] as const) {
  @ApiProperty({ example: 'acme' })
  orgId: string;
}
