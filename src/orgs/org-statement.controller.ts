import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiParam, ApiTags } from '@nestjs/swagger';

import type { ResolvedAccount } from '../auth/account-access.js';
import { Auth, NamedAccount } from '../auth/auth.decorator.js';
import { StatementQueryDto } from '../credits/dto/statements.dto.js';
import { StatementRoute } from '../credits/statements/statement-route.js';
import { StatementAnswers } from '../finance/statement-answers.js';

/**
 * An organisation's monthly statement (its readers, staff), as the finance module answers a user's
 * (docs/statements.md). Tagged `credits` with the other statements, and `orgs`.
 */
@ApiTags('credits')
@Controller('api')
export class OrgStatementController {
  constructor(@Inject(StatementAnswers) private readonly answers: StatementAnswers) {}

  @Get('orgs/:orgId/statement')
  @Auth('user', { account: { org: 'reader', what: 'read its money and usage' }, portal: 'own' })
  @StatementRoute('getOrgStatement', 'An organisation’s statement of a month (org readers, staff)')
  @ApiTags('orgs')
  @ApiParam({ name: 'orgId', example: 'acme' })
  ofOrg(@Param('orgId') _orgId: string, @Query() query: StatementQueryDto, @NamedAccount() account: ResolvedAccount) {
    return this.answers.answer(account, query);
  }
}
