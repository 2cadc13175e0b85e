import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';

import { MetricsService } from '../metrics/metrics.service.js';

/**
 * Where a gateway request's time goes, stage by stage (docs/gateway.md "Added latency"): the key's
 * check, reading and parsing the body, admission (the route, the rule and the worst case, in memory),
 * the hold's statement, the upstream's answer headers, passing the answer on, the settlement's statement.
 */
export const GATEWAY_STAGES = ['auth', 'body', 'admission', 'hold', 'upstream', 'passthrough', 'settlement'] as const;
export type GatewayStage = (typeof GATEWAY_STAGES)[number];

/** The gateway's counters on the service's registry (GET /metrics): requests, upstream latency, settlements by reason, stages. */
@Injectable()
export class GatewayMetrics {
  private readonly requests: Counter<'route' | 'status' | 'outcome'>;
  private readonly upstream: Histogram<'upstream'>;
  private readonly settlements: Counter<'reason'>;
  private readonly stages: Histogram<'stage'>;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.requests = new Counter({
      name: 'accounting_gateway_requests_total',
      help: 'Gateway requests by route, status and outcome (reported, client_abort, upstream_error, refused, failed)',
      labelNames: ['route', 'status', 'outcome'],
      registers,
    });
    this.upstream = new Histogram({
      name: 'accounting_gateway_upstream_seconds',
      help: 'Time from sending a request upstream to its answer’s headers, by upstream',
      labelNames: ['upstream'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.settlements = new Counter({
      name: 'accounting_gateway_settlements_total',
      help: 'Gateway sessions settled, by reason (reported, client_abort, upstream_error)',
      labelNames: ['reason'],
      registers,
    });
    this.stages = new Histogram({
      name: 'accounting_gateway_stage_seconds',
      help: 'Time a gateway request spends in each stage (auth, body, admission, hold, upstream, passthrough, settlement)',
      labelNames: ['stage'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 10, 60],
      registers,
    });
  }

  /** Times one stage from `since` (performance.now()) and answers now, the next stage's start. */
  stage(stage: GatewayStage, since: number): number {
    const now = performance.now();
    this.stages.observe({ stage }, (now - since) / 1000);
    return now;
  }

  request(route: string, status: number, outcome: string): void {
    this.requests.inc({ route: `/v1${route}`, status: String(status), outcome });
  }

  upstreamLatency(upstream: string, seconds: number): void {
    this.upstream.observe({ upstream }, seconds);
  }

  settled(reason: string): void {
    this.settlements.inc({ reason });
  }
}
