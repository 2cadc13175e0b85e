import { describe, expect, it } from 'vitest';

import type { MetricsRepository } from './metrics.repository.js';
import { MetricsService } from './metrics.service.js';

// The repository only feeds the scrape-time gauges; these specs exercise the counters.
const noDatabase = { pools: () => [] } as unknown as MetricsRepository;

async function value(metrics: MetricsService, name: string, labels: Record<string, string> = {}) {
  const metric = metrics.registry.getSingleMetric(name);
  const { values } = await metric!.get();
  return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
}

describe('MetricsService', () => {
  it('runJob counts a success and records when it happened', async () => {
    const metrics = new MetricsService(noDatabase);
    let ran = 0;
    await metrics.runJob('credits-expiry', async () => {
      ran++;
    });
    expect(ran).toBe(1);
    expect(await value(metrics, 'accounting_job_runs_total', { job: 'credits-expiry', result: 'success' })).toBe(1);
    const last = await value(metrics, 'accounting_job_last_success_timestamp_seconds', { job: 'credits-expiry' });
    expect(Math.abs(last! - Date.now() / 1000)).toBeLessThan(60);
  });

  it('runJob counts a failure, does not throw it, and leaves the last success alone', async () => {
    const metrics = new MetricsService(noDatabase);
    await expect(
      metrics.runJob('idempotency-cleanup', () => Promise.reject(new Error('database gone'))),
    ).resolves.toBeUndefined();
    expect(await value(metrics, 'accounting_job_runs_total', { job: 'idempotency-cleanup', result: 'failure' })).toBe(
      1,
    );
    expect(await value(metrics, 'accounting_job_last_success_timestamp_seconds', { job: 'idempotency-cleanup' })).toBe(
      undefined,
    );
  });

  it('creditsMoved adds absolute amounts per ledger kind and ignores zero', async () => {
    const metrics = new MetricsService(noDatabase);
    metrics.creditsMoved('grant', 100);
    metrics.creditsMoved('debit', -30);
    metrics.creditsMoved('debit', -12);
    metrics.creditsMoved('expire', 0);
    expect(await value(metrics, 'accounting_credits_total', { kind: 'grant' })).toBe(100);
    expect(await value(metrics, 'accounting_credits_total', { kind: 'debit' })).toBe(42);
    expect(await value(metrics, 'accounting_credits_total', { kind: 'expire' })).toBe(undefined);
  });

  it('a scrape still answers when a workload gauge cannot be read, and reads the others', async () => {
    const metrics = new MetricsService(noDatabase);
    metrics.webhookDelivery('succeeded');
    const text = await metrics.render({
      activeSessions: () => Promise.reject(new Error('no database in a unit spec')),
      webhookPending: () => Promise.resolve(3),
    });
    expect(text).toContain('accounting_webhook_deliveries_total{result="succeeded"} 1');
    expect(text).toContain('accounting_active_sessions 0');
    expect(text).toContain('accounting_webhook_pending 3');
  });
});
