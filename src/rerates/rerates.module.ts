import { Module } from '@nestjs/common';

import { AuditModule } from '../audit/audit.module.js';
import { EventsModule } from '../events/events.module.js';
import { UsageModule } from '../usage/usage.module.js';
import { RecordCorrectors } from './record-correctors.js';
import { RerateConnections } from './rerate-connections.js';
import { RerateRunner } from './rerate-runner.js';
import { ReratesJob } from './rerates.job.js';
import { ReratesRepository } from './rerates.repository.js';
import { ReratesService } from './rerates.service.js';

/**
 * Re-rates: the simulation's prices applied to a range of records as corrections (docs/pricing.md).
 * Their routes are pricing's (`RerateRoutesModule`), handed `ReratesService` by the composition root.
 */
@Module({
  imports: [AuditModule, EventsModule, UsageModule],
  providers: [ReratesRepository, ReratesService, RerateRunner, RerateConnections, RecordCorrectors, ReratesJob],
  exports: [RecordCorrectors, ReratesService],
})
export class ReratesModule {}
