import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { UsageStatsService } from '../src/usage/stats/usage-stats.service.js';
import { WebhookResolver } from '../src/webhooks/webhook-runtime.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { type OpenApiDocument, operationsOf, requestExamples } from './support/openapi-document.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';

// The smaller findings, each played again: stats maps were unbounded (10,000 model names →
// 2.2 MB); a webhook URL's ?token= appeared in the audit log; a client's X-Request-Id was stored as
// sent; the OpenAPI example for creating a webhook named a host that resolves nowhere.

describe('statistics maps are capped with an (other) bucket', () => {
  let t: TestApp;
  let f: Fixtures;

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { prefix: 'capped' });
  });
  afterAll(() => t?.close());

  it('10,000 model names: 1,000 keys and (other), the credits all counted, a small answer', async () => {
    const u = await f.newUser({ track: false });
    await t.db.query(
      `INSERT INTO usage_records (user_id, service, operation, credits, model_id, "timestamp", account_id)
       SELECT $1, 'chat', 'c', 1 + (i % 7), 'model-' || lpad(i::text, 5, '0'), now() - i * interval '1 ms', (SELECT account_id FROM accounts WHERE user_id = $1::varchar)
         FROM generate_series(1, 10000) AS i`,
      [u.id],
    );
    const res = await t.http.get('/api/usage/stats').set(u.auth).expect(200);
    const { byModel, totalCredits } = res.body as { byModel: Record<string, number>; totalCredits: number };
    expect(Object.keys(byModel)).toHaveLength(1001);
    expect(byModel['(other)']).toBeGreaterThan(0);
    expect(Object.values(byModel).reduce((a, b) => a + b, 0)).toBe(totalCredits);
    // The models kept are those with the most credits (7 each: i % 7 = 6).
    const kept = Object.entries(byModel).filter(([k]) => k !== '(other)');
    expect(kept.every(([, credits]) => credits === 7)).toBe(true);
    expect(res.text.length).toBeLessThan(100_000);

    await t.app.get(UsageStatsService).compactRollups();
    const admin = bearer(tokenFor('admin'));
    const system = await t.http.get('/api/usage/system-stats').set(admin).expect(200);
    expect(Object.keys(system.body.byModel).length).toBeLessThanOrEqual(1001);
    expect(system.body.byModel['(other)']).toBeGreaterThan(0);
    expect(Object.keys(system.body.marginByModel).length).toBeLessThanOrEqual(1001);
    expect(system.body.marginByModel['(other)'].credits).toBeGreaterThan(0);
    expect(system.text.length).toBeLessThan(300_000);
  });
});

describe('request ids', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it.each([
    ['too long', 'x'.repeat(129)],
    ['markup', '<script>alert(1)</script>'],
    ['quotes and spaces', 'a" OR "1"="1'],
    ['non-ASCII', 'trace-ünïcode'],
  ])('a client X-Request-Id that is %s is replaced by a fresh one, in the answer and the audit log', async (_n, id) => {
    const admin = bearer(tokenFor('admin', uniqueId('rid-admin')));
    const modelId = uniqueId('rid-model');
    const res = await t.http
      .post('/api/pricing')
      .set(admin)
      .set('X-Request-Id', id)
      .send({ modelId, pricePer1kTokens: '1' });
    expect(res.status).toBe(201);
    const fresh = res.headers['x-request-id'];
    expect(fresh).toMatch(/^[0-9a-f-]{36}$/);
    const { rows } = await t.db.query(`SELECT request_id FROM audit_log WHERE target_id = $1`, [res.body.id]);
    expect(rows).toEqual([{ request_id: fresh }]);
  });

  it('a sane one is kept', async () => {
    const res = await t.http.get('/health').set('X-Request-Id', 'gw-2026.11.23:abc_1').expect(200);
    expect(res.headers['x-request-id']).toBe('gw-2026.11.23:abc_1');
  });
});

describe('webhooks without private URLs (a resolver that knows the reserved example names)', () => {
  let own: OwnDatabase;
  let t: TestApp;
  const admin = bearer(token({ sub: 'ops-findings-admin', role: 'admin' }));
  /** example.com, .net and .org (RFC 2606) resolve, to IANA's public servers; their subdomains do not. */
  const IANA = { 'example.com': '93.184.215.14', 'example.net': '93.184.215.14', 'example.org': '93.184.215.14' };

  beforeAll(async () => {
    own = await ownDatabase('ops_findings');
    t = await startTestApp({ DATABASE_URL: own.url, WEBHOOK_ALLOW_PRIVATE_URLS: 'false' });
    t.app.get(WebhookResolver).resolve = async (host) => {
      const address = IANA[host as keyof typeof IANA];
      if (!address) throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      return [{ address, family: 4 }];
    };
  });
  afterAll(async () => {
    await t?.close();
    await own?.drop();
  });

  it('secrets in a webhook URL stay out of the audit log; the endpoint keeps its URL', async () => {
    const url = 'https://example.com/webhooks/in?token=s3cr3t-t0ken&team=ops';
    const created = await t.http
      .post('/api/webhooks')
      .set(admin)
      .send({ url, events: ['*'] })
      .expect(201);
    expect(created.body.url).toBe(url);
    await t.http
      .patch(`/api/webhooks/${created.body.id}`)
      .set(admin)
      .send({ url: 'https://example.com/webhooks/in?token=an0ther' })
      .expect(200);
    const { rows } = await t.db.query(`SELECT before, after FROM audit_log WHERE target_id = $1 ORDER BY at`, [
      created.body.id,
    ]);
    expect(rows).toHaveLength(2);
    const text = JSON.stringify(rows);
    expect(text).not.toContain('s3cr3t-t0ken');
    expect(text).not.toContain('an0ther');
    expect(rows[0].after.url).toBe('https://example.com/webhooks/in?token=REDACTED&team=REDACTED');
    const listed = await t.http.get('/api/webhooks').set(admin).expect(200);
    expect(listed.body.items.map((w: { url: string }) => w.url)).toContain(
      'https://example.com/webhooks/in?token=an0ther',
    );
  });

  it('every webhook request example of the OpenAPI document is accepted as written', async () => {
    const doc = (await t.http.get('/api/docs-json').expect(200)).body as OpenApiDocument;
    const examples = operationsOf(doc)
      .filter((o) => o.path === '/api/webhooks' && o.method === 'post')
      .flatMap((o) => requestExamples(o).map(([, e]) => e.value as { url: string }));
    expect(examples.length).toBeGreaterThan(0);
    for (const body of examples) {
      expect(Object.keys(IANA)).toContain(new URL(body.url).hostname);
      const res = await t.http.post('/api/webhooks').set(admin).send(body);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    // The host the example named before resolves nowhere: refused.
    await t.http
      .post('/api/webhooks')
      .set(admin)
      .send({ url: 'https://hooks.example.com/accounting', events: ['*'] })
      .expect(400);
  });
});
