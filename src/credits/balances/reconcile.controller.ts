import { Controller, Get, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';

import { StaffRead } from '../../auth/staff-read.decorator.js';
import { ReconcileResponseDto } from '../dto/reconcile.dto.js';
import { CreditQueriesService } from './credit-queries.service.js';
import { REFUNDED_LOTS, type RefundedLots } from './refunded-lots.js';

/**
 * Reconcile (`GET /api/credits/reconcile`): the credits module's checks of every allocation, hold and
 * debt against the ledger, and the purchases module's check of refunded lots (REFUNDED_LOTS, handed in
 * by the composition root), in the one REPEATABLE READ snapshot the credits module opens.
 */
@ApiTags('credits')
@Controller('api/credits')
export class ReconcileController {
  constructor(
    @Inject(CreditQueriesService) private readonly credits: CreditQueriesService,
    @Inject(REFUNDED_LOTS) private readonly refunds: RefundedLots,
  ) {}

  @Get('reconcile')
  @StaffRead('admin', ReconcileResponseDto, 'reconcileCredits', 'Check every allocation against its ledger (admin)')
  reconcile(): Promise<ReconcileResponseDto> {
    return this.credits.reconcile([(manager) => this.refunds.refundedLotsWithCredits(manager)]);
  }
}
