import { Global, Module } from '@nestjs/common';

import { REFUSAL_COUNTER } from '../common/errors/all-exceptions.filter.js';
import { STORE_ERROR_COUNTER } from '../throttling/shared-throttler-storage.js';
import { MetricsRepository } from './metrics.repository.js';
import { MetricsService } from './metrics.service.js';

/**
 * Prometheus metrics (served at GET /metrics by src/health/). Global: any module records through MetricsService
 * (`creditsMoved`, `insufficientCredits`, `webhookDelivery`, `runJob` for scheduled jobs).
 */
@Global()
@Module({
  providers: [
    MetricsService,
    MetricsRepository,
    { provide: REFUSAL_COUNTER, useExisting: MetricsService },
    { provide: STORE_ERROR_COUNTER, useExisting: MetricsService },
  ],
  exports: [MetricsService, REFUSAL_COUNTER, STORE_ERROR_COUNTER],
})
export class MetricsModule {}
