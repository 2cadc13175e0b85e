import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { UsageStatsService } from '../src/usage/stats/usage-stats.service.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';

const METRICS_TOKEN = 'metrics-test-token-that-is-long-enough-0123';
const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';

/** The value of one sample line (`name{labels} value`), or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = match[2] ? match[2].split(/,(?=[a-zA-Z_]+=")/) : [];
    if (wanted.every((w) => have.includes(w)) && have.length === wanted.length) return Number(match[3]);
  }
  return undefined;
}

describe('GET /metrics without METRICS_TOKEN', () => {
  it('is 404, even with a bearer token', async () => {
    const t = await startTestApp();
    try {
      await t.http.get('/metrics').expect(404);
      await t.http.get('/metrics').set(bearer(METRICS_TOKEN)).expect(404);
    } finally {
      await t.close();
    }
  });
});

describe('GET /metrics', () => {
  let t: TestApp;
  const admin = token({ sub: uniqueId('metrics-admin'), role: 'admin' });
  const scrape = async () => (await t.http.get('/metrics').set(bearer(METRICS_TOKEN)).expect(200)).text;

  beforeAll(async () => {
    // No scheduler: the job-run counts below are of the runs this spec makes itself (the compaction
    // job would also run every 30 s on its own, and count twice on a slow run).
    t = await startTestApp({ METRICS_TOKEN, JOBS_ENABLED: 'false' });
  });
  afterAll(() => t?.close());

  it('answers only the METRICS_TOKEN bearer, never a user', async () => {
    await t.http.get('/metrics').expect(401);
    await t.http.get('/metrics').set(bearer('metrics-test-token-012345678X')).expect(401);
    await t.http.get('/metrics').set(bearer(admin)).expect(401);
    const res = await t.http.get('/metrics').set(bearer(METRICS_TOKEN)).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('counts real traffic by route template and status, and 402s', async () => {
    const userId = uniqueId('metrics');
    const jwt = token({ sub: userId });
    const before = await scrape();
    const count = (text: string, method: string, route: string, status: string) =>
      sample(text, 'http_request_duration_seconds_count', { method, route, status }) ?? 0;

    await t.http.get('/api/users/me').set(bearer(jwt)).expect(200);
    await t.http.post('/api/credits/allocate').set(bearer(admin)).send({ userId, credits: 10 }).expect(201);
    await t.http
      .post('/api/usage/record')
      .set(bearer(jwt))
      .send({ service: 'chat', operation: 'op', credits: 4 })
      .expect(201);
    await t.http
      .post('/api/usage/record')
      .set(bearer(jwt))
      .send({ service: 'chat', operation: 'op', credits: 4 })
      .expect(201);
    await t.http
      .post('/api/usage/record')
      .set(bearer(jwt))
      .send({ service: 'chat', operation: 'op', credits: 4 })
      .expect(402);
    await t.http.get(`/api/usage/stats/${userId}`).set(bearer(admin)).expect(200);
    await t.http.get('/api/usage/stats/no-such-user-xyz').set(bearer(admin)).expect(404);
    await t.http.get('/api/users/me').expect(401);
    await t.http.get(`/api/not-a-route/${userId}`).set(bearer(jwt)).expect(404);

    const after = await scrape();
    const delta = (method: string, route: string, status: string) =>
      count(after, method, route, status) - count(before, method, route, status);
    expect(delta('POST', '/api/usage/record', '201')).toBe(2);
    expect(delta('POST', '/api/usage/record', '402')).toBe(1);
    expect(delta('POST', '/api/credits/allocate', '201')).toBe(1);
    expect(delta('GET', '/api/usage/stats/:userId', '200')).toBe(1);
    expect(delta('GET', '/api/usage/stats/:userId', '404')).toBe(1);
    // Refused by the authentication guard: still under its template.
    expect(delta('GET', '/api/users/me', '401')).toBe(1);
    expect(delta('GET', 'unmatched', '404')).toBe(1);
    // Never a raw path or an id as a label.
    expect(after).not.toContain(userId);
    expect(after).not.toContain('not-a-route');
    // A histogram: buckets and a sum beside the count.
    expect(
      sample(after, 'http_request_duration_seconds_bucket', {
        le: '+Inf',
        method: 'POST',
        route: '/api/usage/record',
        status: '201',
      }),
    ).toBe(count(after, 'POST', '/api/usage/record', '201'));
    expect(
      sample(after, 'http_request_duration_seconds_sum', { method: 'POST', route: '/api/usage/record', status: '201' }),
    ).toBeGreaterThan(0);

    const insufficient = (text: string) => sample(text, 'accounting_insufficient_credits_total') ?? 0;
    expect(insufficient(after) - insufficient(before)).toBe(1);
  });

  it('reads active sessions from the database and reports the pools and the process', async () => {
    const userId = uniqueId('metrics-s');
    const jwt = token({ sub: userId });
    await t.http.get('/api/users/me').set(bearer(jwt)).expect(200);
    await t.http.post('/api/credits/allocate').set(bearer(admin)).send({ userId, credits: 1000 }).expect(201);
    await t.http
      .post('/api/streaming-sessions/initialize')
      .set(bearer(jwt))
      .send({ modelId: HAIKU, estimatedTokens: 1000 })
      .expect(201);

    const text = await scrape();
    // Other spec files run beside this one: at least this session is active.
    expect(sample(text, 'accounting_active_sessions')).toBeGreaterThanOrEqual(1);
    const webhookTable = (await t.db.query(`SELECT to_regclass('webhook_deliveries') IS NOT NULL AS present`)).rows[0];
    const pending = sample(text, 'accounting_webhook_pending');
    if (webhookTable.present) expect(pending).toBeGreaterThanOrEqual(0);
    else expect(pending).toBe(0);

    expect(sample(text, 'accounting_db_pool_max', { pool: 'primary' })).toBe(10);
    const total = sample(text, 'accounting_db_pool_connections', { pool: 'primary', state: 'total' });
    const idle = sample(text, 'accounting_db_pool_connections', { pool: 'primary', state: 'idle' });
    expect(total).toBeGreaterThanOrEqual(1);
    expect(idle).toBeLessThanOrEqual(total!);
    expect(sample(text, 'accounting_db_pool_connections', { pool: 'primary', state: 'waiting' })).toBe(0);
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(text).toContain('# TYPE accounting_credits_total counter');
    expect(text).toContain('# TYPE accounting_webhook_deliveries_total counter');
  });

  it('counts job runs by result and when each last succeeded', async () => {
    const before = Date.now() / 1000;
    await t.app.get(UsageStatsService).compactionJob();
    const text = await scrape();
    expect(sample(text, 'accounting_job_runs_total', { job: 'usage-rollup-compaction', result: 'success' })).toBe(1);
    const last = sample(text, 'accounting_job_last_success_timestamp_seconds', { job: 'usage-rollup-compaction' });
    expect(last).toBeGreaterThanOrEqual(before);
    expect(
      sample(text, 'accounting_job_runs_total', { job: 'usage-rollup-compaction', result: 'failure' }),
    ).toBeUndefined();
  });
});
