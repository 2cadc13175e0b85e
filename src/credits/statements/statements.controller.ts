import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';

import { ACCOUNT_ACCESS, type AccountAccess, type ResolvedAccount } from '../../auth/account-access.js';
import { Auth, CurrentUser, NamedAccount } from '../../auth/auth.decorator.js';
import type { AuthUser } from '../../auth/roles.js';
import { StaffUserRoute } from '../../auth/staff-user-route.decorator.js';
import { StatementQueryDto } from '../../finance/dto/statements.dto.js';
import { StatementAnswers, StatementRoute } from '../../finance/statement-route.js';

/** Monthly statements: the caller's own, a user's (staff); an organisation's is src/orgs/' (OrgStatementController). */
@ApiTags('credits')
@Controller('api')
export class StatementsController {
  constructor(
    @Inject(StatementAnswers) private readonly answers: StatementAnswers,
    @Inject(ACCOUNT_ACCESS) private readonly access: AccountAccess,
  ) {}

  @Get('credits/statement')
  @Auth('user', { scope: 'credits:read', portal: 'own' })
  @StatementRoute('getStatement', 'The caller’s statement of a month')
  async own(@CurrentUser() user: AuthUser, @Query() query: StatementQueryDto) {
    return this.answers.answer(await this.access.account({ kind: 'user', ownerId: user.userId }), query);
  }

  @Get('credits/statement/:userId')
  @StaffUserRoute('supervisor')
  @StatementRoute('getUserStatement', 'A user’s statement of a month (supervisor)')
  ofUser(
    @Param('userId') _userId: string,
    @Query() query: StatementQueryDto,
    @NamedAccount() account: ResolvedAccount,
  ) {
    return this.answers.answer(account, query);
  }
}
