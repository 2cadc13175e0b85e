import { type DynamicModule, Module } from '@nestjs/common';

import { type Handed, handedRoutes } from '../../common/handed-routes.js';
import { STATEMENT_DESK, type StatementDesk } from './statement-desk.js';
import { StatementsController } from './statements.controller.js';

/**
 * A user's monthly statement (`GET /api/credits/statement`, `…/statement/:userId`). The statements are
 * the finance module's, so the composition root hands them in (`StatementRoutesModule.forRoot({
 * imports: [StatementsModule], use: StatementAnswers })`) and this folder imports none of it.
 */
@Module({})
export class StatementRoutesModule {
  static forRoot(desk: Handed<StatementDesk>): DynamicModule {
    return handedRoutes(StatementRoutesModule, [StatementsController], STATEMENT_DESK, desk);
  }
}
