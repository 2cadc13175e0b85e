import type { StreamableFile } from '@nestjs/common';

import type { ResolvedAccount } from '../../auth/account-access.js';
import type { StatementQueryDto, StatementResponseDto } from '../dto/statements.dto.js';

/**
 * What a user's statement routes (`/api/credits/statement`) answer with: the statement of the account
 * the route resolved, in JSON, CSV or PDF (`format`); none: 404. The statements are the finance
 * module's, which sits above credits, so the composition root hands them in (`StatementRoutesModule
 * .forRoot({ imports: [StatementsModule], use: StatementAnswers })`) and credits imports none of it.
 */
export interface StatementDesk {
  answer(account: ResolvedAccount | null, query: StatementQueryDto): Promise<StatementResponseDto | StreamableFile>;
}
export const STATEMENT_DESK = Symbol('STATEMENT_DESK');
