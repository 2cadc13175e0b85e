import { Module } from '@nestjs/common';

import { AuditModule } from '../audit/audit.module.js';
import { EventsModule } from '../events/events.module.js';
import { UsageModule } from '../usage/usage.module.js';
import { RecordCorrectors } from './record-correctors.js';
import { RerateConnections } from './rerate-connections.js';
import { RerateRunner } from './rerate-runner.js';
import { ReratesController } from './rerates.controller.js';
import { ReratesJob } from './rerates.job.js';
import { ReratesRepository } from './rerates.repository.js';
import { ReratesService } from './rerates.service.js';

/** Re-rates: the simulation's prices applied to a range of records as corrections (docs/pricing.md). */
@Module({
  imports: [AuditModule, EventsModule, UsageModule],
  controllers: [ReratesController],
  providers: [ReratesRepository, ReratesService, RerateRunner, RerateConnections, RecordCorrectors, ReratesJob],
  exports: [RecordCorrectors],
})
export class ReratesModule {}
