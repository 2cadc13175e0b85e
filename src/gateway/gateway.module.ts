import { Module } from '@nestjs/common';

import { ApiKeysModule } from '../api-keys/api-keys.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { PricingModule } from '../pricing/pricing.module.js';
import { StreamingSessionsModule } from '../streaming-sessions/streaming-sessions.module.js';
import { GatewayService } from './gateway.service.js';
import { GatewayMetrics } from './gateway-metrics.js';
import { GatewaySettlements } from './gateway-settlements.js';
import { UpstreamPools } from './upstream-pools.js';

/** The provider APIs under /v1 (docs/gateway.md); app.factory mounts GatewayService's router when upstreams are configured. */
@Module({
  imports: [ApiKeysModule, MetricsModule, PricingModule, StreamingSessionsModule],
  providers: [GatewayService, GatewaySettlements, GatewayMetrics, UpstreamPools],
  exports: [GatewayService],
})
export class GatewayModule {}
