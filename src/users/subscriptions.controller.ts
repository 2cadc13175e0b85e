import { applyDecorators, Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';

import { existingUser, type ResolvedAccount } from '../auth/account-access.js';
import { Auth, CurrentUser, NamedAccount } from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { ApiSelfGrantForbidden } from '../auth/self-grant-forbidden.decorator.js';
import { ACCOUNT_ERASED_CONFLICT, domainErrorExample } from '../common/errors/error-examples.js';
import { ApiNotFoundOf } from '../common/errors/not-found.decorator.js';
import { IdempotentPost } from '../idempotency/idempotent-post.decorator.js';
import {
  PutSubscriptionDto,
  SubscriptionPreviewResponseDto,
  SubscriptionResponseDto,
} from '../plans/dto/subscription.dto.js';
import { CHANGE_CONFLICTS, CHANGE_EXAMPLES, CHANGE_REFUSALS } from '../plans/subscription-docs.js';
import { SubscriptionsService } from '../plans/subscriptions.service.js';

/**
 * A supervisor's change of the subscription of the user the path names: staff reach any user, and a
 * supervisor may not change their own (403 SELF_GRANT_FORBIDDEN; admins may). Listed last to first,
 * as the stack it stands for.
 */
const SubscriptionChange = () =>
  applyDecorators(
    ApiSelfGrantForbidden('subscription'),
    ApiParam({ name: 'userId', example: 'alice' }),
    Auth('supervisor', { account: { user: 'staff' } }),
  );

@ApiTags('plans')
@Controller('api/users/:userId/subscription')
export class SubscriptionsController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Put()
  @SubscriptionChange()
  @ApiOperation({
    operationId: 'putSubscription',
    summary: 'Subscribe a user to a plan (supervisor)',
    description:
      'Grants the period in progress at once. The same plan again changes nothing (no new anchor, no second ' +
      'grant). Another plan replaces the subscription and keeps its period (its anchor, also that of a ' +
      'subscription ended within the period in progress), unless startsAt is given. Plan changes never mint ' +
      'credits: a grant adds only what the plan allocations in force lack, so an upgrade grants the difference ' +
      'at once, and a downgrade, or the same plan again after a DELETE, grants nothing more until the next ' +
      'period. Credits already granted keep their expiry. `timing`, `allowance` and `anchor` choose when the ' +
      'change happens and what it grants (docs/plans.md "Changing plans"); POST …/preview answers what this ' +
      'PUT would do. A change tells `subscription.changed` once. A supervisor may not change their own ' +
      'subscription (403 SELF_GRANT_FORBIDDEN); an admin may.',
  })
  @ApiBody({ type: PutSubscriptionDto, examples: CHANGE_EXAMPLES })
  @ApiOkResponse({ type: SubscriptionResponseDto })
  @ApiBadRequestResponse(CHANGE_REFUSALS)
  @ApiNotFoundOf('User', 'Unknown user or plan', {
    unknownPlan: domainErrorExample('NOT_FOUND', 'Plan not found', 'Unknown plan'),
  })
  @ApiConflictResponse(CHANGE_CONFLICTS)
  put(
    @CurrentUser() user: AuthUser,
    @Param('userId') userId: string,
    @Body() body: PutSubscriptionDto,
  ): Promise<SubscriptionResponseDto> {
    return this.subscriptions.put(user, userId, body);
  }

  @IdempotentPost('preview')
  @HttpCode(200)
  @Auth('user', { account: { user: 'holder' }, portal: 'own', changesNothing: true })
  @ApiOperation({
    operationId: 'previewSubscription',
    summary: 'What a subscription PUT with this body would do (writes nothing; own, or staff)',
    description:
      'Decides the change as the PUT would, now, and writes nothing: no ledger entry, audit entry, event or ' +
      'row. The PUT with the same body then does what it said (a prorated grant by the fraction of the period ' +
      'left when the PUT runs).',
  })
  @ApiParam({ name: 'userId', example: 'alice' })
  @ApiBody({ type: PutSubscriptionDto, examples: CHANGE_EXAMPLES })
  @ApiOkResponse({ type: SubscriptionPreviewResponseDto })
  @ApiBadRequestResponse(CHANGE_REFUSALS)
  @ApiNotFoundOf('User', 'Unknown user or plan', {
    unknownPlan: domainErrorExample('NOT_FOUND', 'Plan not found', 'Unknown plan'),
  })
  @ApiConflictResponse(CHANGE_CONFLICTS)
  preview(
    @Param('userId') _userId: string,
    @Body() body: PutSubscriptionDto,
    @NamedAccount() account: ResolvedAccount | null,
  ): Promise<SubscriptionPreviewResponseDto> {
    return this.subscriptions.previewFor(existingUser(account), body);
  }

  @Get()
  @Auth('user', { account: { user: 'holder' }, portal: 'own' })
  @ApiOperation({ operationId: 'getSubscription', summary: 'A user’s subscription (own; any user’s for supervisors)' })
  @ApiParam({ name: 'userId', example: 'alice' })
  @ApiOkResponse({ type: SubscriptionResponseDto })
  @ApiNotFoundOf('Subscription', 'No live subscription')
  get(
    @Param('userId') _userId: string,
    @NamedAccount() account: ResolvedAccount | null,
  ): Promise<SubscriptionResponseDto> {
    return this.subscriptions.get(existingUser(account));
  }

  @Delete()
  @SubscriptionChange()
  @ApiOperation({
    operationId: 'deleteSubscription',
    summary: 'End a user’s subscription (supervisor)',
    description:
      'No further grants; credits already granted stay until they expire. A supervisor may not end their own ' +
      'subscription (403 SELF_GRANT_FORBIDDEN); an admin may.',
  })
  @ApiOkResponse({ type: SubscriptionResponseDto })
  @ApiNotFoundOf('Subscription', 'No live subscription')
  @ApiConflictResponse(ACCOUNT_ERASED_CONFLICT)
  remove(@CurrentUser() user: AuthUser, @Param('userId') userId: string): Promise<SubscriptionResponseDto> {
    return this.subscriptions.remove(user, userId);
  }
}
