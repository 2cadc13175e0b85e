import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { AccountsModule } from '../accounts/accounts.module.js';
import { ApiKeysModule } from '../api-keys/api-keys.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { ChangesModule } from '../changes/changes.module.js';
import { EngineModule } from '../engine/engine.module.js';
import { EventsModule } from '../events/events.module.js';
import { PricingModule } from '../pricing/pricing.module.js';
import { UsageBatchService } from './batch/usage-batch.service.js';
import { UsageEventIdsJob } from './batch/usage-event-ids.job.js';
import { UsageEventIdsRepository } from './batch/usage-event-ids.repository.js';
import { CoalescedRecords } from './coalesced-records.js';
import { UsageCorrectionsController } from './corrections/usage-corrections.controller.js';
import { UsageCorrectionsRepository } from './corrections/usage-corrections.repository.js';
import { UsageCorrectionsService } from './corrections/usage-corrections.service.js';
import { UsageCorrection } from './entities/usage-correction.entity.js';
import { UsageRecord } from './entities/usage-record.entity.js';
import { ReviewQueueController } from './review/review-queue.controller.js';
import { UsageReviewController } from './review/usage-review.controller.js';
import { UsageReviewRepository } from './review/usage-review.repository.js';
import { UsageReviewService } from './review/usage-review.service.js';
import { SimulationsService } from './simulations/simulations.service.js';
import { UsageStatsRepository } from './stats/usage-stats.repository.js';
import { UsageStatsService } from './stats/usage-stats.service.js';
import { UsageController } from './usage.controller.js';
import { UsageService } from './usage.service.js';
import { UsageAuditRepository } from './usage-audit.repository.js';
import { UsageErasureRepository } from './usage-erasure.repository.js';
import { UsageRecordsRepository } from './usage-records.repository.js';
import { UsageRecordsService } from './usage-records.service.js';

@Module({
  imports: [
    TypeOrmModule.forFeature([UsageRecord, UsageCorrection]),
    ApiKeysModule,
    AuditModule,
    ChangesModule,
    EngineModule,
    PricingModule,
    AccountsModule,
    EventsModule,
  ],
  // The review queue (GET /api/credits/review) first: the OpenAPI document lists it with the credits
  // routes, right before usage's own.
  controllers: [ReviewQueueController, UsageController, UsageReviewController, UsageCorrectionsController],
  providers: [
    UsageErasureRepository,
    CoalescedRecords,
    UsageAuditRepository,
    UsageService,
    UsageBatchService,
    UsageEventIdsRepository,
    UsageEventIdsJob,
    UsageRecordsRepository,
    UsageRecordsService,
    UsageStatsRepository,
    UsageStatsService,
    SimulationsService,
    UsageReviewRepository,
    UsageReviewService,
    UsageCorrectionsRepository,
    UsageCorrectionsService,
  ],
  exports: [
    UsageErasureRepository,
    UsageService,
    UsageStatsService,
    UsageRecordsService,
    UsageCorrectionsService,
    UsageAuditRepository,
    UsageReviewService,
    SimulationsService,
  ],
})
export class UsageModule {}
