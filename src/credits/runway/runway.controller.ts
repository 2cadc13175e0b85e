import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { orgRoleRefusal, type ResolvedAccount } from '../../auth/account-access.js';
import { Auth, NamedAccount } from '../../auth/auth.decorator.js';
import { isOrgReader } from '../../auth/org-roles.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { ErrorResponseDto } from '../../common/errors/error-response.dto.js';
import { ApiNotFoundOf } from '../../common/errors/not-found.decorator.js';
import { RunwayQueryDto, RunwayResponseDto } from '../dto/runway.dto.js';
import { RUNWAY_PROJECTION, type RunwayProjection } from './runway-projection.js';

const WHAT = 'read its money and usage';

/**
 * The runway (`GET /api/credits/runway`, docs/credits.md "Runway"): the runway module's projection
 * (RUNWAY_PROJECTION, handed in by the composition root). The access guard resolves the account the
 * query names, else the caller's own (`own: 'account'`), and hands it over.
 */
@ApiTags('credits')
@Controller('api/credits')
export class RunwayController {
  constructor(@Inject(RUNWAY_PROJECTION) private readonly runway: RunwayProjection) {}

  @Get('runway')
  @Auth('user', {
    scope: 'credits:read',
    account: { user: 'holder', org: 'reader', what: WHAT },
    portal: 'own',
    own: 'account',
  })
  @ApiOperation({
    operationId: 'getRunway',
    summary: 'When the account’s credits run out at its recent burn',
    description:
      'The caller’s own account (a portal session’s, an org key’s org), a user’s with `userId` (staff) or an ' +
      'organisation’s with `orgId` (its readers, staff). The burn is the mean per day of metered usage net of ' +
      'corrections over `days`; the projection spends the balance soonest-expiring lot first, lets lots expire, ' +
      'and adds plan grants and auto-recharge still to come.',
  })
  @ApiOkResponse({ type: RunwayResponseDto })
  @ApiBadRequestResponse({ description: 'Invalid query, or asOf in the future', type: ErrorResponseDto })
  @ApiNotFoundOf('User', 'userId or orgId names an account the caller may not see')
  get(@Query() query: RunwayQueryDto, @NamedAccount() account: ResolvedAccount): Promise<RunwayResponseDto> {
    // The caller's own org (an org portal session): its usage is for its readers, as with orgId named.
    if (account.kind === 'org' && account.memberId !== null && !isOrgReader(account.memberRole))
      throw new DomainError('FORBIDDEN', orgRoleRefusal('reader', WHAT));
    return this.runway.runway(account, query);
  }
}
