import { Body, Controller, Get, Param, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPayloadTooLargeResponse,
  ApiTags,
} from '@nestjs/swagger';

import { Auth, CurrentUser } from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { StaffRead } from '../auth/staff-read.decorator.js';
import { domainErrorExample } from '../common/errors/error-examples.js';
import { ErrorResponseDto, ReconciliationRefusedResponseDto } from '../common/errors/error-response.dto.js';
import { ApiNotFoundOf } from '../common/errors/not-found.decorator.js';
import { IdempotentPost } from '../idempotency/idempotent-post.decorator.js';
import type { CreateOutcome } from '../idempotency/replayed-create.interceptor.js';
import {
  ListReconciliationsQueryDto,
  ReconciliationListResponseDto,
  ReconciliationResponseDto,
} from './dto/reconciliations.dto.js';
import { ReconciliationBodyInterceptor } from './reconciliation-body.interceptor.js';
import { ReconciliationsService } from './reconciliations.service.js';

const SAMPLE_REPORT =
  'automatic_payout_id,balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,payment_intent_id\n' +
  'po_1QPayoutNovember3,txn_1QAbCdEfGhIjKlMn,2026-11-03 09:15:00,usd,10.00,-0.59,9.41,charge,pi_3QAbCdEfGhIjKlMn\n' +
  'po_1QPayoutNovember3,txn_1QFeeNovember,2026-11-03 23:59:59,usd,-2.00,0.00,-2.00,fee,\n';

@ApiTags('finance')
@Controller('api/finance/reconciliations')
export class ReconciliationsController {
  constructor(private readonly reconciliations: ReconciliationsService) {}

  @IdempotentPost(undefined, { readsBody: ReconciliationBodyInterceptor, replays: true })
  @Auth('admin')
  @ApiOperation({
    operationId: 'createReconciliation',
    summary: 'Reconcile a Stripe payout reconciliation report with the purchases (admin)',
    description:
      'The body is Stripe’s itemized payout reconciliation report as CSV (`payout_reconciliation.itemized`, at ' +
      'most 20 MB); other columns than the required ones are ignored. A `charge` row matches the Stripe purchase ' +
      'paid with its payment intent when its gross is the purchase’s amount; a purchase’s `refund` rows match ' +
      'when their −gross adds up to its refunded amount; a `dispute` row matches a lost dispute. Other rows ' +
      '(fees, payouts) are counted. `missing`: Stripe purchases paid within the charge rows’ time span that no ' +
      'row names. The same report again → 200 with the reconciliation made the first time.',
  })
  @ApiConsumes('text/csv')
  @ApiBody({
    schema: { type: 'string' },
    examples: { report: { summary: 'A payout: a charge and a fee', value: SAMPLE_REPORT } },
  })
  @ApiCreatedResponse({ type: ReconciliationResponseDto, description: 'A new reconciliation' })
  @ApiOkResponse({
    type: ReconciliationResponseDto,
    description:
      'Replayed report: this report was reconciled before, and this is that reconciliation, with `Idempotent-Replayed: true`',
  })
  @ApiBadRequestResponse({
    description:
      'Not CSV, required columns missing (named), a row that is not valid (its line named), or more than 200,000 rows',
    type: ReconciliationRefusedResponseDto,
    examples: {
      columns: domainErrorExample(
        'VALIDATION',
        'The report lacks the required columns: payment_intent_id, automatic_payout_id',
        'Required columns missing',
      ),
      notCsv: domainErrorExample('VALIDATION', 'The body must be the report as text/csv', 'A body that is not CSV'),
      tooLarge: domainErrorExample(
        'REPORT_TOO_LARGE',
        'The report has more than 200000 rows: split it by payout',
        'More than 200,000 rows',
        { maxRows: 200_000 },
      ),
    },
  })
  @ApiPayloadTooLargeResponse({ description: 'A report over 20 MB', type: ErrorResponseDto })
  create(@CurrentUser() user: AuthUser, @Body() report: unknown): Promise<CreateOutcome<ReconciliationResponseDto>> {
    return this.reconciliations.create(user, report);
  }

  @Get()
  @StaffRead(
    'supervisor',
    ReconciliationListResponseDto,
    'listReconciliations',
    'The reconciliations, newest first (supervisor)',
  )
  list(@Query() query: ListReconciliationsQueryDto): Promise<ReconciliationListResponseDto> {
    return this.reconciliations.list(query);
  }

  @Get(':id')
  @Auth('supervisor')
  @ApiOperation({
    operationId: 'getReconciliation',
    summary: 'One reconciliation and its unmatched items (supervisor)',
  })
  @ApiParam({ name: 'id', format: 'uuid', example: '0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a60' })
  @ApiOkResponse({ type: ReconciliationResponseDto })
  @ApiNotFoundOf('Reconciliation', 'Unknown reconciliation')
  get(@Param('id') id: string): Promise<ReconciliationResponseDto> {
    return this.reconciliations.get(id);
  }
}
