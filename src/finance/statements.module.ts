import { Module } from '@nestjs/common';

import { StatementAnswers } from './statement-route.js';
import { StatementsRepository } from './statements.repository.js';
import { StatementsService } from './statements.service.js';

/**
 * Monthly statements of an account, in JSON, CSV and PDF (docs/statements.md): the answers a
 * statement route gives, served by the credits tenants (a user's) and the orgs folder (an org's).
 */
@Module({
  providers: [StatementsRepository, StatementsService, StatementAnswers],
  exports: [StatementAnswers],
})
export class StatementsModule {}
