import { Module } from '@nestjs/common';

import { StatementAnswers } from './statement-answers.js';
import { StatementsRepository } from './statements.repository.js';
import { StatementsService } from './statements.service.js';

/**
 * Monthly statements of an account, in JSON, CSV and PDF (docs/statements.md): the answers a user's
 * routes under the credits API give (`/api/credits/statement`, the credits tenants' StatementsController,
 * handed them by the composition root) and the orgs folder's route (an org's, OrgStatementController).
 */
@Module({
  providers: [StatementsRepository, StatementsService, StatementAnswers],
  exports: [StatementAnswers],
})
export class StatementsModule {}
