import { Global, Module } from '@nestjs/common';

import { MetricsController } from './metrics.controller.js';
import { MetricsRepository } from './metrics.repository.js';
import { MetricsService } from './metrics.service.js';

/**
 * Prometheus metrics (GET /metrics). Global: any module records through MetricsService
 * (`creditsMoved`, `insufficientCredits`, `webhookDelivery`, `runJob` for scheduled jobs).
 */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [MetricsService, MetricsRepository],
  exports: [MetricsService],
})
export class MetricsModule {}
