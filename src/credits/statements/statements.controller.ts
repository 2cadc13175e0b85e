import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';

import type { ResolvedAccount } from '../../auth/account-access.js';
import { Auth, NamedAccount } from '../../auth/auth.decorator.js';
import { StaffUserRoute } from '../../auth/staff-user-route.decorator.js';
import { StatementQueryDto } from '../dto/statements.dto.js';
import { STATEMENT_DESK, type StatementDesk } from './statement-desk.js';
import { StatementRoute } from './statement-route.js';

/**
 * Monthly statements under the credits API (`/api/credits/statement`): the caller's own user account's
 * (the access guard resolves it, `own: 'user'`), a user's (staff); an organisation's is src/orgs/'
 * (OrgStatementController). The statement is the finance module's (STATEMENT_DESK, handed in by the
 * composition root).
 */
@ApiTags('credits')
@Controller('api')
export class StatementsController {
  constructor(@Inject(STATEMENT_DESK) private readonly statements: StatementDesk) {}

  @Get('credits/statement')
  @Auth('user', { scope: 'credits:read', portal: 'own', own: 'user' })
  @StatementRoute('getStatement', 'The caller’s statement of a month')
  own(@Query() query: StatementQueryDto, @NamedAccount() account: ResolvedAccount) {
    return this.statements.answer(account, query);
  }

  @Get('credits/statement/:userId')
  @StaffUserRoute('supervisor')
  @StatementRoute('getUserStatement', 'A user’s statement of a month (supervisor)')
  ofUser(
    @Param('userId') _userId: string,
    @Query() query: StatementQueryDto,
    @NamedAccount() account: ResolvedAccount,
  ) {
    return this.statements.answer(account, query);
  }
}
