import { Module } from '@nestjs/common';

import { EventsModule } from '../events/events.module.js';
import { RunwayRepository } from './runway.repository.js';
import { RunwayService } from './runway.service.js';
import { RunwayAlertJob } from './runway-alert.job.js';
import { RunwayAlertsRepository } from './runway-alerts.repository.js';

/**
 * The runway (docs/credits.md "Runway"): the read of credits, plans and auto-recharge together, which
 * the credits tenants' route (`GET /api/credits/runway`) is handed by the composition root, and the
 * alert job, which writes only its own `runway_alerts` and events through the outbox.
 */
@Module({
  imports: [EventsModule],
  providers: [RunwayService, RunwayRepository, RunwayAlertsRepository, RunwayAlertJob],
  exports: [RunwayService],
})
export class RunwayModule {}
