import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { AccountsModule } from '../accounts/accounts.module.js';
import { ApiKeysModule } from '../api-keys/api-keys.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { EngineModule } from '../engine/engine.module.js';
import { EventsModule } from '../events/events.module.js';
import { PricingModule } from '../pricing/pricing.module.js';
import { UsageModule } from '../usage/usage.module.js';
import { CoalescedHolds } from './coalesced-holds.js';
import { CoalescedSettlements } from './coalesced-settlements.js';
import { StreamingSession } from './entities/streaming-session.entity.js';
import { SessionExpiryJob } from './session-expiry.job.js';
import { SessionQueriesService } from './session-queries.service.js';
import { SessionSettlementsRepository } from './session-settlements.repository.js';
import { SessionsErasureRepository } from './sessions-erasure.repository.js';
import { StreamingSessionsController } from './streaming-sessions.controller.js';
import { StreamingSessionsRepository } from './streaming-sessions.repository.js';
import { StreamingSessionsService } from './streaming-sessions.service.js';

@Module({
  imports: [
    AuditModule,
    TypeOrmModule.forFeature([StreamingSession]),
    AccountsModule,
    ApiKeysModule,
    EngineModule,
    EventsModule,
    PricingModule,
    UsageModule,
  ],
  controllers: [StreamingSessionsController],
  providers: [
    StreamingSessionsService,
    CoalescedHolds,
    CoalescedSettlements,
    StreamingSessionsRepository,
    SessionSettlementsRepository,
    SessionQueriesService,
    SessionExpiryJob,
    SessionsErasureRepository,
  ],
  exports: [StreamingSessionsService, StreamingSessionsRepository, SessionsErasureRepository],
})
export class StreamingSessionsModule {}
