import { Body, Controller, Inject } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { Auth, CurrentUser } from '../../auth/auth.decorator.js';
import type { AuthUser } from '../../auth/roles.js';
import { ApiSelfGrantForbidden } from '../../auth/self-grant-forbidden.decorator.js';
import { ErrorResponseDto } from '../../common/errors/error-response.dto.js';
import { ApiNotFoundOf } from '../../common/errors/not-found.decorator.js';
import { IdempotentPost } from '../../idempotency/idempotent-post.decorator.js';
import { CreditAdminService } from '../credit-admin.service.js';
import { AllocateCreditsDto, AllocationResponseDto } from '../dto/allocations.dto.js';
import { SIGNUP_GRANT, type SignupGrant } from './signup-grant.js';

/**
 * The manual grant (`POST /api/credits/allocate`, tagged `credits`): a grant ahead of a login creates
 * the user's account, and the account's signup credits (SIGNUP_GRANT, the promotions module's
 * `SignupCreditsService` as the composition root hands it in) are handed down to be granted in the
 * creating transaction.
 */
@ApiTags('credits')
@Controller('api/credits')
export class CreditAllocateController {
  constructor(
    @Inject(CreditAdminService) private readonly admin: CreditAdminService,
    @Inject(SIGNUP_GRANT) private readonly signup: SignupGrant,
  ) {}

  @IdempotentPost('allocate')
  @Auth('supervisor')
  @ApiOperation({
    operationId: 'allocateCredits',
    summary: 'Grant credits that expire (supervisor)',
    description:
      'An unknown user is created when `email` and `username` are given; otherwise 404. Expiry: `expiryDays` ' +
      '(default 30) or `expiresAt`, not both. A supervisor may not allocate to their own account (403 ' +
      'SELF_GRANT_FORBIDDEN); an admin may.',
  })
  @ApiBody({
    type: AllocateCreditsDto,
    examples: {
      newAccount: {
        summary: 'Welcome credits, creating the account',
        value: { userId: 'alice', credits: 1000, email: 'alice@example.com', username: 'alice', notes: 'Welcome' },
      },
      byDays: {
        summary: 'Credits that expire in 90 days',
        value: { userId: 'alice', credits: 500, expiryDays: 90, notes: 'Top-up' },
      },
      exactExpiry: {
        summary: 'Credits that expire at an exact instant',
        value: { userId: 'alice', credits: 250, expiresAt: '2099-12-31T23:59:59.000Z' },
      },
    },
  })
  @ApiCreatedResponse({ type: AllocationResponseDto })
  @ApiBadRequestResponse({
    description: 'Invalid body (credits, expiry in the past, both expiry forms...)',
    type: ErrorResponseDto,
  })
  @ApiNotFoundOf('User', 'Unknown user and no email+username to create it')
  @ApiSelfGrantForbidden('credits')
  allocate(@CurrentUser() user: AuthUser, @Body() body: AllocateCreditsDto): Promise<AllocationResponseDto> {
    return this.admin.allocate(user, body, this.signup.onUserCreated);
  }
}
