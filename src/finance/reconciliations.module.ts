import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { ChangesModule } from '../changes/changes.module.js';
import { Reconciliation } from './entities/reconciliation.entity.js';
import { ReconciliationsController } from './reconciliations.controller.js';
import { ReconciliationsRepository } from './reconciliations.repository.js';
import { ReconciliationsService } from './reconciliations.service.js';

/** Finance's reconciliation of Stripe payouts with the purchases (docs/reconciliation.md). */
@Module({
  imports: [TypeOrmModule.forFeature([Reconciliation]), ChangesModule],
  controllers: [ReconciliationsController],
  providers: [ReconciliationsRepository, ReconciliationsService],
})
export class ReconciliationsModule {}
