import { applyDecorators, Body, Controller, Delete, Get, Param, Put } from '@nestjs/common';
import { ApiBody, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';

import { Auth, CurrentUser } from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { ApiSelfGrantForbidden } from '../auth/self-grant-forbidden.decorator.js';
import { domainErrorExample } from '../common/errors/error-examples.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import { ApiNotFoundOf } from '../common/errors/not-found.decorator.js';
import { PutSubscriptionDto, SubscriptionResponseDto } from './dto/subscription.dto.js';
import { SubscriptionsService } from './subscriptions.service.js';

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
      'period. Credits already granted keep their expiry. A supervisor may not change their own subscription ' +
      '(403 SELF_GRANT_FORBIDDEN); an admin may.',
  })
  @ApiBody({
    type: PutSubscriptionDto,
    examples: {
      now: { summary: 'Subscribe now: the first period is granted at once', value: { planId: 'pro' } },
      later: {
        summary: 'Periods anchored at a future start (the same plan again changes nothing)',
        value: { planId: 'pro', startsAt: '2099-01-01T00:00:00.000Z' },
      },
    },
  })
  @ApiOkResponse({ type: SubscriptionResponseDto })
  @ApiNotFoundOf('User', 'Unknown user or plan', {
    unknownPlan: domainErrorExample('NOT_FOUND', 'Plan not found', 'Unknown plan'),
  })
  @ApiConflictResponse({
    description: 'The plan is deactivated',
    type: ErrorResponseDto,
    examples: { inactive: domainErrorExample('PLAN_INACTIVE', 'Plan pro is not active', 'A deactivated plan') },
  })
  put(
    @CurrentUser() user: AuthUser,
    @Param('userId') userId: string,
    @Body() body: PutSubscriptionDto,
  ): Promise<SubscriptionResponseDto> {
    return this.subscriptions.put(user, userId, body);
  }

  @Get()
  @Auth('user', { account: { user: 'holder' } })
  @ApiOperation({ operationId: 'getSubscription', summary: 'A user’s subscription (own; any user’s for supervisors)' })
  @ApiParam({ name: 'userId', example: 'alice' })
  @ApiOkResponse({ type: SubscriptionResponseDto })
  @ApiNotFoundOf('Subscription', 'No live subscription')
  get(@Param('userId') userId: string): Promise<SubscriptionResponseDto> {
    return this.subscriptions.get(userId);
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
  remove(@CurrentUser() user: AuthUser, @Param('userId') userId: string): Promise<SubscriptionResponseDto> {
    return this.subscriptions.remove(user, userId);
  }
}
