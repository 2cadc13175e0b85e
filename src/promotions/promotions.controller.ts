import { Body, Controller, Get, Param, Patch, Query } from '@nestjs/common';
import {
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';

import { orgRoleRefusal, type ResolvedAccount } from '../auth/account-access.js';
import {
  Auth,
  type BodyNamed,
  CurrentUser,
  NamedAccount,
  NamedInBody,
  type Taken,
  WriteInBody,
} from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { StaffRead } from '../auth/staff-read.decorator.js';
import { commonErrorExamples, domainErrorExample } from '../common/errors/error-examples.js';
import { ErrorResponseDto, ForbiddenResponseDto, RetryLaterResponseDto } from '../common/errors/error-response.dto.js';
import { IdempotentPost } from '../idempotency/idempotent-post.decorator.js';
import {
  CreatePromotionDto,
  ListPromotionsQueryDto,
  PromotionListResponseDto,
  PromotionResponseDto,
  RedeemPromotionDto,
  RedemptionListResponseDto,
  RedemptionResponseDto,
  UpdatePromotionDto,
} from './dto/promotions.dto.js';
import { PromotionRedemptionsService, REDEEMING_MANAGERS, REDEEMING_USERS } from './promotion-redemptions.service.js';
import { PROMOTION_NOT_FOUND_MESSAGE } from './promotion-views.js';
import { PromotionsService } from './promotions.service.js';

const CODE = { name: 'code', example: 'LAUNCH-2026', description: 'Compared without case' };
const unknownCode = {
  description: 'Unknown promotion code',
  type: ErrorResponseDto,
  examples: { notFound: domainErrorExample('PROMOTION_NOT_FOUND', 'No such promotion code', 'Unknown code') },
};

@ApiTags('promotions')
@Controller('api/promotions')
export class PromotionsController {
  constructor(
    private readonly promotions: PromotionsService,
    private readonly redemptions: PromotionRedemptionsService,
  ) {}

  @IdempotentPost()
  @Auth('admin')
  @ApiOperation({ operationId: 'createPromotion', summary: 'Create a promotion code (admin)' })
  @ApiBody({
    type: CreatePromotionDto,
    examples: {
      launch: {
        summary: '500 credits for 30 days, once per user, for the first 1,000 users',
        value: { code: 'LAUNCH-2026', credits: 500, expiryDays: 30, maxRedemptions: 1000 },
      },
      newTeams: {
        summary: 'Organisations made within the last 7 days, in 2027',
        value: {
          code: 'TEAMS-2027',
          credits: 2000,
          expiryDays: 90,
          startsAt: '2027-01-01T00:00:00Z',
          endsAt: '2028-01-01T00:00:00Z',
          accounts: 'orgs',
          newAccountsWithinDays: 7,
        },
      },
    },
  })
  @ApiCreatedResponse({ type: PromotionResponseDto })
  @ApiConflictResponse({
    description: 'The code exists (in any case)',
    type: ErrorResponseDto,
    examples: {
      exists: domainErrorExample('PROMOTION_EXISTS', 'A promotion with this code exists', 'The code is taken'),
    },
  })
  create(@CurrentUser() user: AuthUser, @Body() body: CreatePromotionDto): Promise<PromotionResponseDto> {
    return this.promotions.create(user, body);
  }

  @Get()
  @StaffRead('supervisor', PromotionListResponseDto, 'listPromotions', 'Promotion codes, newest first (supervisor)')
  list(@Query() query: ListPromotionsQueryDto): Promise<PromotionListResponseDto> {
    return this.promotions.list(query);
  }

  @Patch(':code')
  @Auth('admin')
  @ApiOperation({ operationId: 'updatePromotion', summary: 'Switch a promotion code off or on (admin)' })
  @ApiParam(CODE)
  @ApiBody({
    type: UpdatePromotionDto,
    examples: {
      disable: { summary: 'No more redemptions', value: { active: false } },
      enable: { summary: 'Redeemable again', value: { active: true } },
    },
  })
  @ApiOkResponse({ type: PromotionResponseDto })
  @ApiNotFoundResponse(unknownCode)
  update(@Param('code') code: string, @Body() body: UpdatePromotionDto): Promise<PromotionResponseDto> {
    return this.promotions.setActive(code, body.active);
  }

  @Get(':code/redemptions')
  @Auth('supervisor')
  @ApiOperation({ operationId: 'listPromotionRedemptions', summary: 'A code’s redemptions, newest first (supervisor)' })
  @ApiParam(CODE)
  @ApiOkResponse({ type: RedemptionListResponseDto })
  @ApiNotFoundResponse(unknownCode)
  listRedemptions(
    @Param('code') code: string,
    @Query() query: ListPromotionsQueryDto,
  ): Promise<RedemptionListResponseDto> {
    return this.promotions.redemptions(code, query);
  }

  // Above @Auth: applied after it, so its 403 and 429 (with retryAfter) are the ones documented.
  @ApiExtraModels(RetryLaterResponseDto)
  @ApiForbiddenResponse({
    description:
      'PROMOTION_NOT_ELIGIBLE: the account is of a kind the code is not for, or older than its `newAccountsWithinDays`; ' +
      'FORBIDDEN: another user’s account (service principals only), an org the caller does not manage, or ' +
      'another account than a portal token’s; NOT_A_MEMBER: an org the caller is no active member of, or none ' +
      'by that id',
    type: ForbiddenResponseDto,
    examples: {
      ...commonErrorExamples(403, { post: true, scope: 'usage:ingest' }),
      notEligible: domainErrorExample(
        'PROMOTION_NOT_ELIGIBLE',
        'This account may not redeem this code',
        'An account of the wrong kind, or too old',
      ),
      notManager: domainErrorExample(
        'FORBIDDEN',
        orgRoleRefusal('manager', 'redeem codes for it'),
        'An org member who does not manage it',
      ),
      notAMember: domainErrorExample(
        'NOT_A_MEMBER',
        'alice is not an active member of organisation acme',
        'An org the caller is not an active member of, or none by that id',
        { orgId: 'acme' },
      ),
    },
  })
  @ApiTooManyRequestsResponse({
    description:
      'PROMOTION_FAILURE_LIMIT: PROMOTION_FAILURE_LIMIT refused redemptions (403, 404, 409) within the hour ' +
      'for the account, or of the calling user or key (a service principal: PROMOTION_SERVICE_FAILURE_LIMIT ' +
      'across every account it names); until that hour ends (see Retry-After). Or over THROTTLE_LIMIT',
    type: RetryLaterResponseDto,
    examples: {
      failureLimit: domainErrorExample(
        'PROMOTION_FAILURE_LIMIT',
        'Too many refused promotion code redemptions; retry later',
        'Ten refused redemptions within the hour',
        { retryAfter: 2400 },
      ),
    },
  })
  @IdempotentPost('redeem')
  @Auth('user', {
    scope: 'usage:ingest',
    portal: 'any',
    own: 'user',
    ownOrNone: true,
    body: REDEEMING_USERS,
    bodyWrite: REDEEMING_MANAGERS,
  })
  @ApiOperation({
    operationId: 'redeemPromotion',
    summary: 'Redeem a promotion code: one promotional allocation',
    description:
      'For the caller’s own account, or with `orgId` for an org they own or administer. Service principals ' +
      '(an admin token, an API key with `usage:ingest`) redeem for the user (`userId`) or org (`orgId`) they name.',
  })
  @ApiBody({
    type: RedeemPromotionDto,
    examples: {
      own: { summary: 'For the caller’s own account', value: { code: 'launch-2026' } },
    },
  })
  @ApiCreatedResponse({ type: RedemptionResponseDto })
  @ApiNotFoundResponse({
    description:
      'The code is unknown, switched off, not started or ended (one answer for all four); or an unknown user',
    type: ErrorResponseDto,
    examples: {
      notFound: domainErrorExample('PROMOTION_NOT_FOUND', PROMOTION_NOT_FOUND_MESSAGE, 'No redeemable code'),
    },
  })
  @ApiConflictResponse({
    description: 'Every redemption of the code is used, or this account’s `perAccount` is',
    type: ErrorResponseDto,
    examples: {
      exhausted: domainErrorExample('PROMOTION_EXHAUSTED', 'Every redemption of this code has been used', 'All used'),
      alreadyRedeemed: domainErrorExample(
        'PROMOTION_ALREADY_REDEEMED',
        'This account has redeemed this code as often as it may',
        'This account’s redemptions are used',
      ),
    },
  })
  redeem(
    @CurrentUser() user: AuthUser,
    @Body() body: RedeemPromotionDto,
    @WriteInBody() forOrg: Taken<ResolvedAccount | null>,
    @NamedInBody() named: BodyNamed,
    @NamedAccount() own: ResolvedAccount | null,
  ): Promise<RedemptionResponseDto> {
    return this.redemptions.redeem(user, body, { forOrg, named, own });
  }
}
