import { Controller, Get, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';

import { StaffRead } from '../../auth/staff-read.decorator.js';
import { ReconcileResponseDto } from '../dto/reconcile.dto.js';
import { ReconcileService } from './reconcile.service.js';

/** Reconcile, a route of the credits API served here, above the credits and purchases modules it checks. */
@ApiTags('credits')
@Controller('api/credits')
export class ReconcileController {
  constructor(@Inject(ReconcileService) private readonly reconciler: ReconcileService) {}

  @Get('reconcile')
  @StaffRead('admin', ReconcileResponseDto, 'reconcileCredits', 'Check every allocation against its ledger (admin)')
  reconcile(): Promise<ReconcileResponseDto> {
    return this.reconciler.reconcile();
  }
}
