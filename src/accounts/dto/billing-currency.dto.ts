import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';

import { NotTogetherWith } from '../../common/validation/exclusive.js';
import { OptionalOrgId, OptionalUserId } from '../../common/validation/ids.js';

export class PutBillingCurrencyDto {
  @OptionalUserId('A user’s account (not with orgId)')
  @NotTogetherWith('orgId')
  userId?: string;

  @OptionalOrgId('An organisation’s account (not with userId)')
  orgId?: string;

  @ApiProperty({ example: 'eur', pattern: '^[a-z]{3}$', description: 'ISO 4217, lowercase' })
  // The ISO 4217 list (the money rule's, the engine's) is checked by the desk that sets it.
  @IsString()
  @Matches(/^[a-z]{3}$/, { message: 'currency must be an ISO 4217 code in lowercase (usd, eur, jpy, …)' })
  currency: string;
}

export class BillingCurrencyResponseDto {
  @ApiPropertyOptional({ example: 'alice', description: 'The user (an organisation’s answer has orgId)' })
  userId?: string;

  @ApiPropertyOptional({ example: 'acme', description: 'The organisation (a user’s answer has userId)' })
  orgId?: string;

  @ApiProperty({ example: 'eur', description: 'What the account pays in from now on' })
  billingCurrency: string;
}
