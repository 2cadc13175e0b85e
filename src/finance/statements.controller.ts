import { applyDecorators, Controller, Get, Inject, Param, Query, StreamableFile } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiTags } from '@nestjs/swagger';

import { ACCOUNT_ACCESS, type AccountAccess, type ResolvedAccount } from '../auth/account-access.js';
import { Auth, CurrentUser, NamedAccount } from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { StaffUserRoute } from '../auth/staff-user-route.decorator.js';
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

/** What the three statement routes document alike. */
const documented = (operationId: string, summary: string) =>
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

/** Monthly statements: the caller's own, a user's (staff), an organisation's (its readers, staff). */
@ApiTags('credits')
@Controller('api')
export class StatementsController {
  constructor(
    private readonly statements: StatementsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ACCOUNT_ACCESS) private readonly access: AccountAccess,
  ) {}

  @Get('credits/statement')
  @Auth('user', { scope: 'credits:read', portal: 'own' })
  @documented('getStatement', 'The caller’s statement of a month')
  async own(@CurrentUser() user: AuthUser, @Query() query: StatementQueryDto) {
    return this.answer(await this.access.account({ userId: user.userId }), query);
  }

  @Get('credits/statement/:userId')
  @StaffUserRoute('supervisor')
  @documented('getUserStatement', 'A user’s statement of a month (supervisor)')
  ofUser(
    @Param('userId') _userId: string,
    @Query() query: StatementQueryDto,
    @NamedAccount() account: ResolvedAccount,
  ) {
    return this.answer(account, query);
  }

  @Get('orgs/:orgId/statement')
  @Auth('user', { account: { org: 'reader', what: 'read its money and usage' }, portal: 'own' })
  @documented('getOrgStatement', 'An organisation’s statement of a month (org readers, staff)')
  @ApiTags('orgs')
  @ApiParam({ name: 'orgId', example: 'acme' })
  ofOrg(@Param('orgId') _orgId: string, @Query() query: StatementQueryDto, @NamedAccount() account: ResolvedAccount) {
    return this.answer(account, query);
  }

  /** The statement of the account the resolver gave (the guard, for a route naming one); none: 404. */
  private async answer(
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
