import { Injectable, Logger } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import { MetricsRepository } from './metrics.repository.js';

export type JobResult = 'success' | 'failure';
/** How a webhook delivery attempt ended: a 2xx, a retry scheduled, or given up for good. */
export type WebhookDeliveryResult = 'succeeded' | 'retrying' | 'failed';

/** Requests that no route matched (404s, and bodies refused before routing): never the raw path. */
export const UNMATCHED_ROUTE = 'unmatched';

type HttpChild = ReturnType<Histogram<'method' | 'route' | 'status'>['labels']>;

/**
 * The workload gauges, each read from the database by the module that owns what it counts, handed to
 * render() by the scrape route (src/health/metrics.controller.ts), which sits above those modules.
 */
export interface WorkloadReads {
  activeSessions: () => Promise<number>;
  webhookPending: () => Promise<number>;
}

/**
 * The service's Prometheus metrics, one registry per application (tests run several apps in one
 * process). Counters are per process, as Prometheus expects; the workload gauges are read from the
 * database when scraped, each by the module whose table it counts (WorkloadReads).
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly logger = new Logger('Metrics');

  private readonly http = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  /** Children by "route method status": labels() would hash the label object on every request. */
  private readonly httpChildren = new Map<string, HttpChild>();

  private readonly credits = this.counter(
    'accounting_credits_total',
    'Credits moved, by ledger kind (absolute amounts)',
    ['kind'],
  );
  private readonly recordsTogether = new Histogram({
    name: 'accounting_records_per_statement',
    help: 'Metered records (POST /api/usage/record) sent per statement: 1 alone, more when they arrived together',
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers: [this.registry],
  });
  private readonly insufficient = this.counter(
    'accounting_insufficient_credits_total',
    'Requests refused because the balance was short (402 INSUFFICIENT_CREDITS)',
  );
  private readonly webhookDeliveries = this.counter(
    'accounting_webhook_deliveries_total',
    'Webhook delivery attempts by result',
    ['result'],
  );
  private readonly jobRuns = this.counter('accounting_job_runs_total', 'Scheduled job runs by job and result', [
    'job',
    'result',
  ]);
  private readonly jobLastSuccess = this.gauge(
    'accounting_job_last_success_timestamp_seconds',
    'When each scheduled job last finished without error (unix seconds)',
    ['job'],
  );
  private readonly rateLimitStoreErrors = this.counter(
    'accounting_rate_limit_store_errors_total',
    'Rate-limit checks that Redis could not answer (served from the per-instance fallback)',
  );
  private readonly csvExports = this.counter(
    'accounting_csv_exports_total',
    'CSV exports by how they ended: completed, closed (client left), stalled (client stopped reading), failed, refused (the user had 2 running)',
    ['outcome'],
  );
  private readonly webhookPending = this.gauge(
    'accounting_webhook_pending',
    'Webhook deliveries waiting to be sent (read from the database when scraped)',
  );
  private readonly activeSessions = this.gauge(
    'accounting_active_sessions',
    'Streaming sessions holding credits (read from the database when scraped)',
  );
  private readonly poolConnections = this.gauge(
    'accounting_db_pool_connections',
    'Database pool connections by pool (primary, replica, export) and state (total, idle, waiting clients)',
    ['pool', 'state'],
  );
  private readonly poolMax = this.gauge(
    'accounting_db_pool_max',
    'Database pool size limit (DB_POOL_SIZE; export: EXPORT_POOL_SIZE)',
    ['pool'],
  );

  constructor(private readonly repository: MetricsRepository) {
    collectDefaultMetrics({ register: this.registry });
  }

  /** A counter of this registry (the fields above are made with it before the constructor runs). */
  private counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  /** A gauge of this registry. */
  private gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  /** HTTP requests received and not yet answered (or closed), on this instance. */
  requestsInFlight = 0;

  /** One HTTP request; `route` is the matched template (or UNMATCHED_ROUTE). The hot path: no allocation but the key. */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `${route} ${method} ${status}`;
    let child = this.httpChildren.get(key);
    if (!child) {
      child = this.http.labels(method, route, String(status));
      this.httpChildren.set(key, child);
    }
    child.observe(seconds);
  }

  /** Credits that moved through a ledger entry of `kind`; call after the movement committed. */
  creditsMoved(kind: string, amount: number): void {
    if (amount !== 0) this.credits.inc({ kind }, Math.abs(amount));
  }

  /** One statement of the metered debit and how many records it carried. */
  recordsPerStatement(records: number): void {
    this.recordsTogether.observe(records);
  }

  insufficientCredits(): void {
    this.insufficient.inc();
  }

  webhookDelivery(result: WebhookDeliveryResult): void {
    this.webhookDeliveries.inc({ result });
  }

  jobRun(job: string, result: JobResult): void {
    this.jobRuns.inc({ job, result });
    if (result === 'success') this.jobLastSuccess.set({ job }, Date.now() / 1000);
  }

  csvExportEnded(outcome: 'completed' | 'closed' | 'stalled' | 'failed' | 'refused'): void {
    this.csvExports.inc({ outcome });
  }

  rateLimitStoreError(): void {
    this.rateLimitStoreErrors.inc();
  }

  /**
   * One pass of a scheduled job, counted by result. A failure is logged as a warning and not thrown:
   * the job's next tick retries it.
   */
  async runJob(job: string, work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
      this.jobRun(job, 'success');
    } catch (error) {
      this.jobRun(job, 'failure');
      this.logger.warn({
        msg: 'scheduled job failed; retried on its next run',
        job,
        err: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /**
   * The Prometheus text: the workload gauges are refreshed first from `workload` (each kept at its last
   * value if its read fails; none read without it).
   */
  async render(workload?: WorkloadReads): Promise<string> {
    const gauges: Record<keyof WorkloadReads, Gauge> = {
      activeSessions: this.activeSessions,
      webhookPending: this.webhookPending,
    };
    for (const [gauge, read] of Object.entries(workload ?? {}) as [keyof WorkloadReads, () => Promise<number>][]) {
      try {
        gauges[gauge].set(await read());
      } catch (error) {
        this.logger.warn({ msg: 'metrics: gauge not refreshed', gauge, err: (error as Error).message });
      }
    }
    for (const p of this.repository.pools()) {
      this.poolMax.set({ pool: p.pool }, p.max);
      this.poolConnections.set({ pool: p.pool, state: 'total' }, p.total);
      this.poolConnections.set({ pool: p.pool, state: 'idle' }, p.idle);
      this.poolConnections.set({ pool: p.pool, state: 'waiting' }, p.waiting);
    }
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
