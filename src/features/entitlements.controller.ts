import { Body, Controller, Get, HttpCode, Param, Put, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';

import type { ResolvedAccount } from '../auth/account-access.js';
import { Auth, type BodyNamed, CurrentUser, NamedAccount, NamedErased, NamedInBody } from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { ApiSelfGrantForbidden } from '../auth/self-grant-forbidden.decorator.js';
import { ACCOUNT_ERASED_CONFLICT, domainErrorExample } from '../common/errors/error-examples.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import { ApiNotFoundOf } from '../common/errors/not-found.decorator.js';
import { IdempotentPost } from '../idempotency/idempotent-post.decorator.js';
import {
  CheckEntitlementDto,
  CheckEntitlementResponseDto,
  EntitlementListResponseDto,
  EntitlementResponseDto,
  EntitlementsQueryDto,
  SetEntitlementDto,
} from './dto/entitlements.dto.js';
import { ConfigGrantDto, MeteredGrantDto } from './dto/grant.dto.js';
import { CHECKERS, ENTITLEMENT_READERS, EntitlementsService, OVERRIDE_SETTERS } from './entitlements.service.js';

@ApiTags('entitlements')
@ApiExtraModels(MeteredGrantDto, ConfigGrantDto)
@Controller('api/entitlements')
export class EntitlementsController {
  constructor(private readonly entitlements: EntitlementsService) {}

  @IdempotentPost('check')
  @HttpCode(200)
  @Auth('user', { scope: 'credits:read', serviceKeys: true, own: 'account', body: CHECKERS })
  @ApiOperation({
    operationId: 'checkEntitlement',
    summary: 'Whether an account may use a feature now; with consume, uses it',
    description:
      'Reads the grants as committed (an override or a plan change that has answered applies to every later ' +
      'check, on every instance). With `consume` (metered features only), an allowed check consumes under the ' +
      'account’s lock, so parallel checks never pass the limit; a refused one consumes nothing; a repeated ' +
      '`eventId` answers the first answer and consumes nothing. Service principals and staff check any account, ' +
      'a user (or a key with `credits:read`) their own, a member their organisation’s. Consuming an ' +
      'organisation’s feature with an API key needs `usage:write` as well (403 otherwise); an `eventId` ' +
      'repeated with another `consume` → 422 EVENT_ID_REUSED.',
  })
  @ApiBody({
    type: CheckEntitlementDto,
    examples: {
      consume: {
        summary: 'Use one image generation of alice’s allowance',
        value: { userId: 'alice', featureKey: 'image.generations', consume: 1, eventId: 'img-7f3a91' },
      },
      switch: { summary: 'May alice use web search?', value: { userId: 'alice', featureKey: 'web_search' } },
    },
  })
  @ApiOkResponse({
    type: CheckEntitlementResponseDto,
    examples: {
      allowed: {
        summary: 'Allowed and consumed',
        value: {
          featureKey: 'image.generations',
          type: 'metered',
          allowed: true,
          limit: 100,
          used: 43,
          remaining: 57,
          resetsAt: '2026-11-23T00:00:00.000Z',
        },
      },
      limitReached: {
        summary: 'The period’s allowance is used up',
        value: {
          featureKey: 'image.generations',
          type: 'metered',
          allowed: false,
          reason: 'limit_reached',
          limit: 100,
          used: 100,
          remaining: 0,
          resetsAt: '2026-11-23T00:00:00.000Z',
        },
      },
      notGranted: {
        summary: 'The plan does not include it',
        value: { featureKey: 'web_search', type: 'boolean', allowed: false, reason: 'not_granted' },
      },
      config: {
        summary: 'A setting',
        value: { featureKey: 'context.window', type: 'config', allowed: true, value: 200000 },
      },
    },
  })
  @ApiBadRequestResponse({
    description: 'Invalid body; consume on a feature that is not metered; eventId without consume',
    type: ErrorResponseDto,
    examples: {
      notMetered: domainErrorExample(
        'FEATURE_NOT_METERED',
        'Feature web_search is boolean: only metered features consume',
        'Only metered features consume',
      ),
    },
  })
  @ApiUnprocessableEntityResponse({
    description: 'EVENT_ID_REUSED: the eventId was used for this account and feature with another consume',
    type: ErrorResponseDto,
    examples: {
      eventIdReused: domainErrorExample(
        'EVENT_ID_REUSED',
        'eventId img-7f3a91 was used with another consume: an eventId names one use, retried with its own body',
        'An eventId repeated with another consume',
      ),
    },
  })
  @ApiNotFoundOf('User', 'userId or orgId names an account the caller may not see', {
    unknownOrg: domainErrorExample('NOT_FOUND', 'Org not found', 'Unknown org'),
  })
  @ApiConflictResponse({
    description: 'consume for an account whose person was erased: `code` ACCOUNT_ERASED',
    type: ErrorResponseDto,
    examples: ACCOUNT_ERASED_CONFLICT.examples,
  })
  check(
    @CurrentUser() caller: AuthUser,
    @Body() body: CheckEntitlementDto,
    @NamedAccount() own: ResolvedAccount,
    @NamedInBody() named: BodyNamed,
    @NamedErased() erased: ReadonlySet<string>,
  ): Promise<CheckEntitlementResponseDto> {
    return this.entitlements.check(caller, own, body, named, erased);
  }

  @Get()
  @Auth('user', { scope: 'credits:read', account: ENTITLEMENT_READERS, portal: 'session', own: 'account' })
  @ApiOperation({
    operationId: 'listEntitlements',
    summary: 'Every feature as an account has it: grant, source and, metered, this period’s use',
    description: 'Neither userId nor orgId: the caller’s own account.',
  })
  @ApiOkResponse({ type: EntitlementListResponseDto })
  @ApiBadRequestResponse({ description: 'userId and orgId together; an invalid cursor', type: ErrorResponseDto })
  @ApiNotFoundOf('User', 'An account the caller may not see')
  list(
    @NamedAccount() account: ResolvedAccount,
    @Query() query: EntitlementsQueryDto,
  ): Promise<EntitlementListResponseDto> {
    return this.entitlements.list(account, query);
  }

  @Put(':featureKey')
  @Auth('supervisor', { body: OVERRIDE_SETTERS })
  @ApiOperation({
    operationId: 'setEntitlement',
    summary: 'Set (or, with grant null, remove) an account’s own grant of a feature (supervisor)',
    description:
      'The override wins over the plan’s grant. It applies to every check from the moment this answers. A ' +
      'supervisor may not set one for their own account or an organisation they are a member of (403 ' +
      'SELF_GRANT_FORBIDDEN); an admin may.',
  })
  @ApiParam({ name: 'featureKey', example: 'image.generations' })
  @ApiBody({
    type: SetEntitlementDto,
    examples: {
      metered: {
        summary: '500 image generations a day',
        value: { userId: 'alice', grant: { limit: 500, period: 'day' } },
      },
      none: {
        summary: 'None at all, whatever the plan says',
        value: { userId: 'alice', grant: { limit: 0, period: 'month' } },
      },
      remove: { summary: 'Back to the plan’s grant', value: { userId: 'alice', grant: null } },
    },
  })
  @ApiOkResponse({ type: EntitlementResponseDto, description: 'The feature as the account now has it' })
  @ApiBadRequestResponse({
    description: 'Invalid body; a grant of another shape than the feature’s type',
    type: ErrorResponseDto,
    examples: {
      wrongShape: domainErrorExample(
        'GRANT_INVALID',
        "grant: a metered feature's grant must be {limit, period}",
        'A grant of the wrong shape',
      ),
    },
  })
  @ApiSelfGrantForbidden('override')
  @ApiNotFoundOf('Feature', 'Unknown feature, user or organisation')
  @ApiConflictResponse(ACCOUNT_ERASED_CONFLICT)
  set(
    @CurrentUser() caller: AuthUser,
    @Param('featureKey') featureKey: string,
    @Body() body: SetEntitlementDto,
    @NamedInBody() named: BodyNamed,
  ): Promise<EntitlementResponseDto> {
    return this.entitlements.setOverride(caller, featureKey, body, named);
  }
}
