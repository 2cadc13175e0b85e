import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';

import { EventsModule } from '../events/events.module.js';
import { StreamingSessionsModule } from '../streaming-sessions/streaming-sessions.module.js';
import { HealthController } from './health.controller.js';
import { MetricsController } from './metrics.controller.js';
import { ShutdownState } from './shutdown-state.js';
import { TableUpkeepJob } from './table-upkeep.job.js';

/**
 * The operations endpoints: liveness and readiness (/api/health), and the Prometheus scrape
 * (/metrics), which reads the workload gauges from the modules that count them; and the upkeep of
 * the tables where the server's autovacuum does not run.
 */
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), StreamingSessionsModule, EventsModule],
  controllers: [HealthController, MetricsController],
  providers: [ShutdownState, TableUpkeepJob],
  exports: [ShutdownState],
})
export class HealthModule {}
