import { applyDecorators, Inject, Injectable, StreamableFile } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiProduces } from '@nestjs/swagger';

import type { ResolvedAccount } from '../auth/account-access.js';
import { NotFoundError } from '../common/errors/domain-error.js';
import { domainErrorExample, plainErrorExample } from '../common/errors/error-examples.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { StatementQueryDto, StatementResponseDto } from './dto/statements.dto.js';
import { statementCsv } from './statement-lines.js';
import { statementPdf } from './statement-pdf.js';
import { StatementsService } from './statements.service.js';

const DESCRIPTION =
  'One line per movement of the month (UTC) — `purchase`, `grant`, `plan`, `promotion`, `transfer_in`, ' +
  '`transfer_out`, `expiry`, `refund`, `chargeback`, `void`, `debt` — and one `usage` line per UTC day summing ' +
  'that day’s usage (records, settled sessions, overdrafts). `openingCredits + Σ lines’ credits = closingCredits`; ' +
  'credits held by an open session still count in the closing. `format=csv` answers text/csv (opening, lines, ' +
  'closing), `format=pdf` application/pdf.';

/** What the statement routes (a user's here, an organisation's in src/orgs/) document alike. */
export const StatementRoute = (operationId: string, summary: string) =>
  applyDecorators(
    ApiOperation({ operationId, summary, description: DESCRIPTION }),
    ApiProduces('application/json', 'text/csv', 'application/pdf'),
    ApiOkResponse({
      type: StatementResponseDto,
      description: 'The statement (JSON; text/csv or application/pdf with `format`)',
    }),
    ApiBadRequestResponse({
      description: 'month is not YYYY-MM, or has not begun',
      type: ErrorResponseDto,
      examples: {
        notBegun: domainErrorExample('VALIDATION', 'The month 2099-01 has not begun', 'A month in the future'),
        notAMonth: plainErrorExample(400, ['month must be YYYY-MM'], 'A month that is not YYYY-MM'),
      },
    }),
  );

/**
 * A statement route's answer: the statement of the account the route resolved, in JSON, CSV or PDF
 * (`format`). The finance module's, so the organisation's route (src/orgs/) answers as a user's does.
 */
@Injectable()
export class StatementAnswers {
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
