import { Module } from '@nestjs/common';

import { EventsModule } from '../events/events.module.js';
import { RunwayController } from './runway.controller.js';
import { RunwayRepository } from './runway.repository.js';
import { RunwayService } from './runway.service.js';
import { RunwayAlertJob } from './runway-alert.job.js';
import { RunwayAlertsRepository } from './runway-alerts.repository.js';

/**
 * The runway (docs/credits.md "Runway"): the read of credits, plans and auto-recharge together, with
 * its route under the credits API (`GET /api/credits/runway`), and the alert job, which writes only
 * its own `runway_alerts` and events through the outbox.
 */
@Module({
  imports: [EventsModule],
  controllers: [RunwayController],
  providers: [RunwayService, RunwayRepository, RunwayAlertsRepository, RunwayAlertJob],
  exports: [RunwayService],
})
export class RunwayModule {}
