import { Module } from '@nestjs/common';

import { StatementAnswers } from './statement-route.js';
import { StatementsController } from './statements.controller.js';
import { StatementsRepository } from './statements.repository.js';
import { StatementsService } from './statements.service.js';

/**
 * Monthly statements of an account, in JSON, CSV and PDF (docs/statements.md): a user's routes under
 * the credits API (`/api/credits/statement`, StatementsController), and the answers the orgs folder's
 * route gives (an org's, OrgStatementController).
 */
@Module({
  controllers: [StatementsController],
  providers: [StatementsRepository, StatementsService, StatementAnswers],
  exports: [StatementAnswers],
})
export class StatementsModule {}
