import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { Auth } from '../auth/auth.decorator.js';
import { ReconcileResponseDto } from '../credits/dto/reconcile.dto.js';
import { ReconcileService } from './reconcile.service.js';

/** Reconcile, a route of the credits API served here, above the credits and purchases modules it checks. */
@ApiTags('credits')
@Controller('api/credits')
export class ReconcileController {
  constructor(@Inject(ReconcileService) private readonly reconciler: ReconcileService) {}

  @Get('reconcile')
  @Auth('admin')
  @ApiOperation({ operationId: 'reconcileCredits', summary: 'Check every allocation against its ledger (admin)' })
  @ApiOkResponse({ type: ReconcileResponseDto })
  reconcile(): Promise<ReconcileResponseDto> {
    return this.reconciler.reconcile();
  }
}
