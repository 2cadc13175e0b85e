import { applyDecorators } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiProduces } from '@nestjs/swagger';

import { domainErrorExample, plainErrorExample } from '../../common/errors/error-examples.js';
import { ErrorResponseDto } from '../../common/errors/error-response.dto.js';
import { StatementResponseDto } from '../dto/statements.dto.js';

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
