import { ApiProperty, getSchemaPath } from '@nestjs/swagger';

import { ApiInteger } from '../../common/validation/integers.js';
import { SubscriptionResponseDto } from '../../plans/dto/subscription.dto.js';
import { UserListItemDto } from './user.dto.js';

export class UserLimitsDto {
  @ApiInteger({ example: 0, description: 'Credits the user may spend beyond the balance' })
  overdraftLimit: number;

  @ApiInteger({
    nullable: true,
    example: null,
    description: 'The user’s own hourly spend limit (null: the default applies)',
  })
  maxCreditsPerHour: number | null;

  @ApiInteger({
    nullable: true,
    example: 2000,
    description: 'The hourly limit in force: the user’s own, else SPEND_RATE_LIMIT_PER_HOUR (null: none)',
  })
  effectiveMaxCreditsPerHour: number | null;
}

/** One user at a glance, for operators: the account, its money, plan, limits and alert thresholds. */
export class UserOverviewDto extends UserListItemDto {
  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description: 'When the person was erased (email and username are null from then on); null: not erased',
  })
  erasedAt: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'usd',
    description: 'The currency the account pays in (null: not set yet)',
  })
  billingCurrency: string | null;

  // OpenAPI 3.0 has no nullable $ref: `nullable` beside `allOf` is read by validators as "must match
  // the schema", so null is its own branch.
  @ApiProperty({
    description: 'The live subscription (null: none)',
    anyOf: [{ $ref: getSchemaPath(SubscriptionResponseDto) }, { type: 'object', nullable: true, enum: [null] }],
  })
  subscription: SubscriptionResponseDto | null;

  @ApiProperty({ type: UserLimitsDto })
  limits: UserLimitsDto;

  @ApiInteger({
    isArray: true,
    example: [100],
    description: 'Low-balance alert thresholds in force (the user’s own, else LOW_BALANCE_THRESHOLDS), largest first',
  })
  alertThresholds: number[];
}
