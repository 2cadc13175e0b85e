import { Body, Controller, Delete, Get, Param, Put, Query } from '@nestjs/common';
import {
  ApiBody,
  ApiConflictResponse,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';

import type { ResolvedAccount } from '../auth/account-access.js';
import { Auth, CurrentUser, NamedAccount, NamedErased } from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { ACCOUNT_ERASED_EXAMPLE, domainErrorExample } from '../common/errors/error-examples.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import {
  ListMembersQueryDto,
  MemberListResponseDto,
  MemberResponseDto,
  PutMemberDto,
  RemovedMemberResponseDto,
  RemoveMemberQueryDto,
  SpendLimitDto,
} from './dto/member.dto.js';
import { OrgRoleForbidden, OrgRoute } from './org-docs.js';
import { OrgMembersService } from './org-members.service.js';

const ROLE_FORBIDDEN = {
  ownerRole: domainErrorExample(
    'ORG_ROLE_FORBIDDEN',
    'Only owners (and staff) may make or change an owner',
    'An org admin making, changing or removing an owner',
  ),
};
const LAST_OWNER = {
  lastOwner: domainErrorExample(
    'LAST_OWNER',
    'An organisation keeps at least one owner',
    'Demoting or removing the last owner',
  ),
};
const MEMBER_NOT_FOUND = {
  unknownMember: domainErrorExample('NOT_FOUND', 'Member not found', 'The user is not (or no longer) a member'),
};

@ApiTags('orgs')
@ApiExtraModels(SpendLimitDto)
@Controller('api/orgs/:orgId/members')
export class OrgMembersController {
  constructor(private readonly members: OrgMembersService) {}

  @Put(':userId')
  @Auth('user', { account: { org: 'manager', what: 'change its members' } })
  @ApiOperation({
    operationId: 'putOrgMember',
    summary: 'Add a member or change their role and spend limit (org owners and admins, staff)',
    description:
      'Adds the user (an existing user, else 404), brings back a removed member, or updates. Omitting ' +
      '`spendLimit` keeps the current one; null removes it. Changing a limit never resets what was spent in ' +
      'the period. An org admin may neither make nor change an owner (403 ORG_ROLE_FORBIDDEN); demoting the ' +
      'last owner → 409 LAST_OWNER.',
  })
  @OrgRoute({ unknownUser: domainErrorExample('NOT_FOUND', 'User not found', 'Unknown user') })
  @ApiParam({ name: 'userId', example: 'bob' })
  @ApiBody({
    type: PutMemberDto,
    examples: {
      withLimit: {
        summary: 'A member who may spend 500 credits a day from the org',
        value: { role: 'member', spendLimit: { credits: 500, period: 'day' } },
      },
      roleOnly: { summary: 'Make them billing, keeping their limit', value: { role: 'billing' } },
      noLimit: { summary: 'An admin without a limit of their own', value: { role: 'admin', spendLimit: null } },
    },
  })
  @ApiOkResponse({ type: MemberResponseDto })
  @OrgRoleForbidden('change its members', 'managers', ROLE_FORBIDDEN)
  @ApiConflictResponse({
    description: 'The last owner would go; the user’s person was erased (`code` ACCOUNT_ERASED)',
    type: ErrorResponseDto,
    examples: { ...LAST_OWNER, ...ACCOUNT_ERASED_EXAMPLE },
  })
  put(
    @CurrentUser() user: AuthUser,
    @Param('orgId') orgId: string,
    @Param('userId') userId: string,
    @Body() body: PutMemberDto,
    @NamedErased() erased: ReadonlySet<string>,
  ): Promise<MemberResponseDto> {
    return this.members.put(user, orgId, userId, body, erased);
  }

  @Get()
  @Auth('user', { account: { org: 'reader', what: 'read its members' }, portal: 'own' })
  @ApiOperation({
    operationId: 'listOrgMembers',
    summary: 'An organisation’s members with their limits and spend, by user id (org readers, staff)',
  })
  @OrgRoute()
  @ApiOkResponse({ type: MemberListResponseDto })
  @OrgRoleForbidden('read its members')
  list(
    @Param('orgId') _orgId: string,
    @Query() query: ListMembersQueryDto,
    @NamedAccount() org: ResolvedAccount,
  ): Promise<MemberListResponseDto> {
    return this.members.list(org, query);
  }

  @Get(':userId')
  @Auth('user', { account: { org: 'reader', what: 'read its members', selfMember: true }, portal: 'own' })
  @ApiOperation({
    operationId: 'getOrgMember',
    summary: 'One member: role, limit, spent in period, what they can spend now (that member, org readers, staff)',
  })
  @OrgRoute(MEMBER_NOT_FOUND)
  @ApiParam({ name: 'userId', example: 'bob' })
  @ApiOkResponse({ type: MemberResponseDto })
  @OrgRoleForbidden('read its members')
  get(
    @Param('orgId') _orgId: string,
    @Param('userId') userId: string,
    @NamedAccount() org: ResolvedAccount,
  ): Promise<MemberResponseDto> {
    return this.members.get(org, userId);
  }

  @Delete(':userId')
  @Auth('user', { account: { org: 'manager', what: 'remove its members', selfMember: true } })
  @ApiOperation({
    operationId: 'removeOrgMember',
    summary: 'Remove a member (org owners and admins, staff; a member leaving on their own)',
    description:
      'The member meters nothing more on the org; records and ledger entries keep their id; debt stays with ' +
      'the org. `sessions=drain` (default) lets their open org sessions settle normally; `sessions=release` ' +
      'aborts each at once, nothing charged. Removing the last owner → 409 LAST_OWNER.',
  })
  @OrgRoute(MEMBER_NOT_FOUND)
  @ApiParam({ name: 'userId', example: 'bob' })
  @ApiOkResponse({ type: RemovedMemberResponseDto })
  @OrgRoleForbidden('remove its members', 'managers', ROLE_FORBIDDEN)
  @ApiConflictResponse({ description: 'The last owner would go', type: ErrorResponseDto, examples: LAST_OWNER })
  remove(
    @CurrentUser() user: AuthUser,
    @Param('orgId') orgId: string,
    @Param('userId') userId: string,
    @Query() query: RemoveMemberQueryDto,
  ): Promise<RemovedMemberResponseDto> {
    return this.members.remove(user, orgId, userId, query.sessions ?? 'drain');
  }
}
