import { applyDecorators, Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';

import { ORG_SELF_GRANT_MESSAGES } from '../auth/access.js';
import type { ResolvedAccount } from '../auth/account-access.js';
import { Auth, CurrentUser, NamedAccount } from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { NotFoundError } from '../common/errors/domain-error.js';
import {
  ACCOUNT_ERASED_CONFLICT,
  commonErrorExamples,
  domainErrorExample,
  type NamedExamples,
} from '../common/errors/error-examples.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import { IdempotentPost } from '../idempotency/idempotent-post.decorator.js';
import { PutSubscriptionDto, SubscriptionPreviewResponseDto } from '../plans/dto/subscription.dto.js';
import { CHANGE_CONFLICTS, CHANGE_EXAMPLES, CHANGE_REFUSALS } from '../plans/subscription-docs.js';
import { SubscriptionsService } from '../plans/subscriptions.service.js';
import { OrgSubscriptionResponseDto } from './dto/org-money.dto.js';
import { OrgRoleForbidden, OrgRoute } from './org-docs.js';

const PLAN_NOT_FOUND = { unknownPlan: domainErrorExample('NOT_FOUND', 'Plan not found', 'Unknown plan') };
const SUBSCRIPTION_NOT_FOUND = {
  noSubscription: domainErrorExample('NOT_FOUND', 'Subscription not found', 'The org has no live subscription'),
};
const ORG_SELF_GRANT = {
  description:
    'A supervisor who is an active member of the org: `code` SELF_GRANT_FORBIDDEN, nothing written (separation ' +
    'of duties; admins may)',
  type: ErrorResponseDto,
  examples: {
    ...commonErrorExamples(403, { post: false, role: 'supervisor' }),
    selfGrant: domainErrorExample(
      'SELF_GRANT_FORBIDDEN',
      ORG_SELF_GRANT_MESSAGES.subscription,
      'A supervisor who is a member of the org (admins may)',
    ),
  },
};

/**
 * A supervisor's change of the org's subscription: staff reach any org, and a supervisor who is an
 * active member of it may not (403 SELF_GRANT_FORBIDDEN; admins may). `extra404`: the route's own
 * 404 examples besides the unknown org. Listed last to first, as the stack it stands for.
 */
const OrgSubscriptionChange = (extra404: NamedExamples) =>
  applyDecorators(
    ApiForbiddenResponse(ORG_SELF_GRANT),
    OrgRoute(extra404),
    Auth('supervisor', { account: { org: 'staff' } }),
  );

/** An organisation's plan: the subscription routes of a user, for the org's account. */
@ApiTags('orgs')
@Controller('api/orgs/:orgId/subscription')
export class OrgPlanController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Put()
  @OrgSubscriptionChange(PLAN_NOT_FOUND)
  @ApiOperation({
    operationId: 'putOrgSubscription',
    summary: 'Subscribe an organisation to a plan (supervisor)',
    description:
      'As PUT /api/users/:userId/subscription, for the org’s account: each period’s allowance goes to the org’s ' +
      'pool. A supervisor who is a member of the org may not (403 SELF_GRANT_FORBIDDEN); an admin may.',
  })
  @ApiBody({ type: PutSubscriptionDto, examples: CHANGE_EXAMPLES })
  @ApiOkResponse({ type: OrgSubscriptionResponseDto })
  @ApiBadRequestResponse(CHANGE_REFUSALS)
  @ApiConflictResponse(CHANGE_CONFLICTS)
  async put(
    @CurrentUser() user: AuthUser,
    @Param('orgId') orgId: string,
    @Body() body: PutSubscriptionDto,
  ): Promise<OrgSubscriptionResponseDto> {
    return { orgId, ...(await this.subscriptions.putFor(user, { kind: 'org', ownerId: orgId }, body)) };
  }

  @IdempotentPost('preview')
  @HttpCode(200)
  @Auth('user', { account: { org: 'reader', what: 'read its money and usage' }, portal: 'own', changesNothing: true })
  @ApiOperation({
    operationId: 'previewOrgSubscription',
    summary: 'What an org subscription PUT with this body would do (writes nothing; org readers, staff)',
    description: 'As POST /api/users/:userId/subscription/preview, for the org’s account.',
  })
  @OrgRoute(PLAN_NOT_FOUND)
  @ApiBody({ type: PutSubscriptionDto, examples: CHANGE_EXAMPLES })
  @ApiOkResponse({ type: SubscriptionPreviewResponseDto })
  @ApiBadRequestResponse(CHANGE_REFUSALS)
  @ApiConflictResponse(CHANGE_CONFLICTS)
  @OrgRoleForbidden('read its money and usage')
  preview(
    @Param('orgId') _orgId: string,
    @Body() body: PutSubscriptionDto,
    @NamedAccount() org: ResolvedAccount,
  ): Promise<SubscriptionPreviewResponseDto> {
    return this.subscriptions.previewFor(org, body);
  }

  @Get()
  @Auth('user', { account: { org: 'reader', what: 'read its money and usage' }, portal: 'own' })
  @ApiOperation({
    operationId: 'getOrgSubscription',
    summary: 'An organisation’s live subscription (org readers, staff)',
  })
  @OrgRoute(SUBSCRIPTION_NOT_FOUND)
  @ApiOkResponse({ type: OrgSubscriptionResponseDto })
  @OrgRoleForbidden('read its money and usage')
  async get(@Param('orgId') _orgId: string, @NamedAccount() org: ResolvedAccount): Promise<OrgSubscriptionResponseDto> {
    const found = await this.subscriptions.findFor(org);
    if (!found) throw new NotFoundError('Subscription');
    return { orgId: org.ownerId, ...found };
  }

  @Delete()
  @OrgSubscriptionChange(SUBSCRIPTION_NOT_FOUND)
  @ApiOperation({
    operationId: 'deleteOrgSubscription',
    summary: 'End an organisation’s subscription (supervisor)',
    description:
      'No further grants; credits already granted stay until they expire. A supervisor who is a member of the ' +
      'org may not (403 SELF_GRANT_FORBIDDEN); an admin may.',
  })
  @ApiOkResponse({ type: OrgSubscriptionResponseDto })
  @ApiConflictResponse(ACCOUNT_ERASED_CONFLICT)
  async remove(@CurrentUser() user: AuthUser, @Param('orgId') orgId: string): Promise<OrgSubscriptionResponseDto> {
    return { orgId, ...(await this.subscriptions.removeFor(user, { kind: 'org', ownerId: orgId })) };
  }
}
