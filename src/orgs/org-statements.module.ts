import { Module } from '@nestjs/common';

import { StatementsModule } from '../finance/statements.module.js';
import { OrgStatementController } from './org-statement.controller.js';

/**
 * An organisation's statement under /api/orgs: the route is the orgs folder's, the statement the
 * finance module's (StatementAnswers). A module of its own, imported by the composition root where
 * the OpenAPI document has always listed the operation.
 */
@Module({
  imports: [StatementsModule],
  controllers: [OrgStatementController],
})
export class OrgStatementsModule {}
