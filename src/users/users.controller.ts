import { Body, Controller, Get, HttpCode, Param, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';

import { existingUser, type ResolvedAccount } from '../auth/account-access.js';
import { Auth, CurrentUser, NamedAccount } from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { StaffRead } from '../auth/staff-read.decorator.js';
import { StaffUserRoute } from '../auth/staff-user-route.decorator.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import { ApiNotFoundOf } from '../common/errors/not-found.decorator.js';
import { IdempotentPost } from '../idempotency/idempotent-post.decorator.js';
import { EraseUserDto, ErasureResponseDto } from './dto/erasure.dto.js';
import { ListUsersQueryDto, UserListResponseDto, UserResponseDto } from './dto/user.dto.js';
import { UserOverviewDto } from './dto/user-overview.dto.js';
import { ErasureService } from './erasure.service.js';
import { UsersService } from './users.service.js';

@ApiTags('users')
@Controller('api/users')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly erasure: ErasureService,
  ) {}

  @Get('me')
  @Auth('user', { scope: 'any', portal: 'any' })
  @ApiOperation({ operationId: 'getMe', summary: 'The calling account and its available credits' })
  @ApiOkResponse({ type: UserResponseDto })
  me(@CurrentUser() user: AuthUser): Promise<UserResponseDto> {
    return this.users.get(user.userId);
  }

  @Get()
  @StaffRead(
    'supervisor',
    UserListResponseDto,
    'listUsers',
    'List accounts with their credits (search, sort, filter by debt or plan)',
    'Items add `heldCredits` and `debt`. `sort`: `created` (default, oldest first), `-created`, `-balance` or ' +
      '`-debt` (largest first; ties by user id). A cursor belongs to the sort it was made with.',
  )
  list(@Query() query: ListUsersQueryDto): Promise<UserListResponseDto> {
    return this.users.list(query);
  }

  @Get(':userId')
  @StaffUserRoute('supervisor')
  @ApiOperation({
    operationId: 'getUserOverview',
    summary: 'One user at a glance (supervisor)',
    description:
      'The account with its available, held and owed credits, its live subscription (or null), its spend ' +
      'limits and the low-balance alert thresholds in force.',
  })
  @ApiOkResponse({ type: UserOverviewDto })
  overview(
    @Param('userId') _userId: string,
    @NamedAccount() account: ResolvedAccount | null,
  ): Promise<UserOverviewDto> {
    return this.users.overview(existingUser(account));
  }

  @IdempotentPost(':userId/erasure')
  @HttpCode(200)
  @Auth('admin', { account: { user: 'staff' } })
  @ApiOperation({
    operationId: 'eraseUser',
    summary: "Erase a person: email, username and display data out of their account's rows (admin)",
    description:
      "Only the account's own rows change; in them the email is matched as a whole address, the username only " +
      "where a field holds a person's name. The account id, balances, allocations, records, ledger and finance " +
      "figures stay. Its API keys are revoked and its portal sessions ended. The person's JWTs then answer 401 " +
      '`ACCOUNT_ERASED`; every write naming the account (metering, grants, transfers, subscriptions, corrections, ' +
      'overrides, portal sessions, purchases, org memberships, account prices, feature consumption) 409 ' +
      '`ACCOUNT_ERASED`. Erasing again answers 200 with the first ' +
      '`erasedAt`. Audited `user.erase`.',
  })
  @ApiParam({ name: 'userId', example: 'frank' })
  @ApiBody({
    type: EraseUserDto,
    examples: { request: { summary: 'Say why', value: { reason: 'Erasure requested by the person (ticket 4411)' } } },
  })
  @ApiOkResponse({ type: ErasureResponseDto })
  @ApiNotFoundOf('User', 'Unknown user')
  @ApiBadRequestResponse({ description: 'No reason, or longer than 500', type: ErrorResponseDto })
  erase(@Param('userId') userId: string, @Body() body: EraseUserDto): Promise<ErasureResponseDto> {
    return this.erasure.erase(userId, body.reason);
  }
}
