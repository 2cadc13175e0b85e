import { Inject, Injectable, StreamableFile } from '@nestjs/common';

import type { ResolvedAccount } from '../auth/account-access.js';
import { NotFoundError } from '../common/errors/domain-error.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { StatementQueryDto, StatementResponseDto } from '../credits/dto/statements.dto.js';
import type { StatementDesk } from '../credits/statements/statement-desk.js';
import { statementCsv } from './statement-lines.js';
import { statementPdf } from './statement-pdf.js';
import { StatementsService } from './statements.service.js';

/**
 * A statement route's answer: the statement of the account the route resolved, in JSON, CSV or PDF
 * (`format`). The finance module's: a user's routes (src/credits/statements/) are handed it as their
 * STATEMENT_DESK, and the organisation's route (src/orgs/) answers with it as a user's does.
 */
@Injectable()
export class StatementAnswers implements StatementDesk {
  constructor(
    @Inject(StatementsService) private readonly statements: StatementsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The statement of the account the resolver gave (the guard, for a route naming one); none: 404. */
  async answer(
    account: ResolvedAccount | null,
    query: StatementQueryDto,
  ): Promise<StatementResponseDto | StreamableFile> {
    if (!account) throw new NotFoundError('User');
    const statement = await this.statements.statement(account, query.month);
    const name = `statement-${account.ownerId}-${statement.month}`;
    if (query.format === 'csv') {
      return new StreamableFile(Buffer.from(statementCsv(statement), 'utf8'), {
        type: 'text/csv; charset=utf-8',
        disposition: `attachment; filename="${name}.csv"`,
      });
    }
    if (query.format === 'pdf') {
      return new StreamableFile(await statementPdf(this.config.mail.platformName, statement), {
        type: 'application/pdf',
        disposition: `attachment; filename="${name}.pdf"`,
      });
    }
    return statement;
  }
}
