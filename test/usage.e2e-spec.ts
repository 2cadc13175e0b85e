import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { UsageStatsService } from '../src/usage/stats/usage-stats.service.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const SONNET = 'anthropic.claude-3-sonnet-20240229-v1:0';

describe('usage', () => {
  let t: TestApp;
  const admin = token({ sub: uniqueId('usage-admin'), role: 'admin' });
  let f: Fixtures;
  const supervisor = token({ sub: uniqueId('usage-sup'), role: 'supervisor' });
  const users: string[] = [];

  async function counts(userId: string) {
    const r = await t.db.query(
      `SELECT (SELECT count(*)::int FROM usage_records WHERE user_id = $1) AS records,
              (SELECT count(*)::int FROM credit_ledger WHERE member_id = $1) AS entries`,
      [userId],
    );
    return r.rows[0] as { records: number; entries: number };
  }

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { granter: admin, users, prefix: 'usage' });
  });
  afterAll(async () => {
    await expectInvariants(t, users);
    await t.close();
  });

  describe('POST /api/usage/record', () => {
    it('records and debits in one step; the ledger entries point at the record', async () => {
      const u = await f.newUser({ credits: 100 });
      const res = await t.http
        .post('/api/usage/record')
        .set(bearer(u.jwt))
        .send({ service: 'embeddings', operation: 'embed', credits: 30, metadata: { doc: 'a', nested: { n: 1 } } })
        .expect(201);
      expect(res.body).toMatchObject({
        userId: u.id,
        service: 'embeddings',
        operation: 'embed',
        credits: 30,
        modelId: null,
        metadata: { doc: 'a', nested: { n: 1 } },
        billingStatus: 'billed',
      });
      expect(new Date(res.body.timestamp).toISOString()).toBe(res.body.timestamp);
      const ledger = await t.db.query(
        `SELECT kind, amount, usage_record_id FROM credit_ledger WHERE member_id = $1 AND kind = 'debit'`,
        [u.id],
      );
      expect(ledger.rows).toEqual([{ kind: 'debit', amount: -30, usage_record_id: res.body.id }]);
      const balance = await t.http.get('/api/credits/balance').set(bearer(u.jwt)).expect(200);
      expect(balance.body.totalCredits).toBe(70);
    });

    it('402 when short, and neither a usage row nor a ledger entry is written', async () => {
      const u = await f.newUser({ credits: 10 });
      const before = await counts(u.id);
      const res = await t.http
        .post('/api/usage/record')
        .set(bearer(u.jwt))
        .send({ service: 'chat', operation: 'completion', credits: 11 })
        .expect(402);
      expect(res.body).toMatchObject({ statusCode: 402, requiredCredits: 11, availableCredits: 10 });
      expect(await counts(u.id)).toEqual(before);
      // Priced records are refused the same way.
      await t.http
        .post('/api/usage/record')
        .set(bearer(u.jwt))
        .send({ service: 'chat', operation: 'c', modelId: SONNET, tokens: 4000 })
        .expect(402);
      expect(await counts(u.id)).toEqual(before);
    });

    it('prices tokens exactly with the rule in effect (integer/decimal maths, no floating point)', async () => {
      const u = await f.newUser({ credits: 10_000 });
      const model = `usage-test-model-${randomUUID().slice(0, 8)}`;
      await t.http
        .post('/api/pricing')
        .set(bearer(admin))
        .send({
          modelId: model,
          pricePer1kTokens: '0.0700',
          outputPricePer1kTokens: '0.2100',
          providerCostPer1kTokens: '0.0300',
        })
        .expect(201);
      // 100000 × 0.07 / 1000 = 7 exactly (7.000000000000001 in floating point, which would round up to 8).
      const exact = await t.http
        .post('/api/usage/record')
        .set(bearer(u.jwt))
        .send({ service: 'chat', operation: 'c', modelId: model, tokens: 100_000 })
        .expect(201);
      expect(exact.body.credits).toBe(7);
      expect(exact.body.tokens).toBe(100_000);
      // ceil((1000 × 0.07 + 1 × 0.21) / 1000) = ceil(0.07021) = 1; input/output split kept.
      const split = await t.http
        .post('/api/usage/record')
        .set(bearer(u.jwt))
        .send({ service: 'chat', operation: 'c', modelId: model, inputTokens: 1000, outputTokens: 1 })
        .expect(201);
      expect(split.body).toMatchObject({ credits: 1, tokens: 1001, inputTokens: 1000, outputTokens: 1 });
      // Seeded rules: 334 × 3 / 1000 = 1.002 → 2; 4000 × 0.25 / 1000 = 1 → 1.
      const sonnet = await t.http
        .post('/api/usage/record')
        .set(bearer(u.jwt))
        .send({ service: 'chat', operation: 'c', modelId: SONNET, tokens: 334 })
        .expect(201);
      expect(sonnet.body.credits).toBe(2);
      const haiku = await t.http
        .post('/api/usage/record')
        .set(bearer(u.jwt))
        .send({ service: 'chat', operation: 'c', modelId: HAIKU, tokens: 4000 })
        .expect(201);
      expect(haiku.body.credits).toBe(1);
      // The record keeps its rule and provider cost: 100000 × 0.03 / 1000 = 3.
      const stored = await t.db.query(
        `SELECT pricing_rule_id, provider_cost::text AS cost FROM usage_records WHERE id = $1`,
        [exact.body.id],
      );
      expect(stored.rows[0].pricing_rule_id).toBe(exact.body.pricingRuleId);
      expect(exact.body.pricingRuleId).toMatch(/^[0-9a-f-]{36}$/);
      expect(Number(stored.rows[0].cost)).toBe(3);
      expect(stored.rows[0].cost).toMatch(/^3(\.0+)?$/);
      const balance = await t.http.get('/api/credits/balance').set(bearer(u.jwt)).expect(200);
      expect(balance.body.totalCredits).toBe(10_000 - 7 - 1 - 2 - 1);
    });

    it.each<[Record<string, unknown>, string]>([
      [{ service: 'chat', operation: 'c' }, 'no credits and no model/tokens'],
      [{ service: 'chat', operation: 'c', modelId: HAIKU }, 'model without tokens'],
      [
        { service: 'chat', operation: 'c', modelId: HAIKU, tokens: 10, inputTokens: 5, outputTokens: 5 },
        'tokens and split',
      ],
      [{ service: 'chat', operation: 'c', credits: -1 }, 'negative credits'],
      [{ service: 'chat', operation: 'c', credits: 1.5 }, 'fractional credits'],
      [{ service: 'x'.repeat(51), operation: 'c', credits: 1 }, 'service too long'],
      [{ service: 'chat', operation: 'x'.repeat(101), credits: 1 }, 'operation too long'],
      [{ service: 'chat', operation: 'c', credits: 1, metadata: [1, 2] }, 'metadata array'],
      [
        { service: 'chat', operation: 'c', credits: 1, metadata: { big: 'x'.repeat(16 * 1024) } },
        'metadata over 16 KB',
      ],
      [{ service: 'chat', operation: 'c', credits: 1, metadata: { bad: 'a\u0000b' } }, 'NUL in metadata'],
      [{ service: 'ch\u0000at', operation: 'c', credits: 1 }, 'NUL in service'],
    ])('400 for %j (%s), nothing recorded', async (body) => {
      const u = await f.newUser({ credits: 100 });
      await t.http.post('/api/usage/record').set(bearer(u.jwt)).send(body).expect(400);
      expect(await counts(u.id)).toEqual({ records: 0, entries: 1 });
    });

    it('a half split counts the missing half as 0, as calculate and the streaming routes do', async () => {
      const u = await f.newUser({ credits: 100 });
      const body = { modelId: HAIKU, inputTokens: 12000 };
      const quoted = await t.http.post('/api/credits/calculate').set(bearer(u.jwt)).send(body).expect(200);
      const res = await t.http
        .post('/api/usage/record')
        .set(bearer(u.jwt))
        .send({ service: 'chat', operation: 'c', ...body })
        .expect(201);
      expect(res.body).toMatchObject({ credits: quoted.body.credits, inputTokens: 12000, outputTokens: 0 });
      expect(quoted.body.credits).toBeGreaterThan(0);
    });

    it.each([
      // userId and apiKeyId are fields of the body, for service principals only (docs/trust-model.md).
      [{ userId: 'someone-else' }, /only by a service principal/],
      [{ apiKeyId: randomUUID() }, /only by a service principal/],
      [{ timestamp: '2001-01-01T00:00:00Z' }, /should not exist/],
      [{ id: randomUUID() }, /should not exist/],
      [{ billingStatus: 'needs_review' }, /should not exist/],
    ])('mass assignment %j → 400 and nothing recorded', async (extra, why) => {
      const u = await f.newUser({ credits: 100 });
      const res = await t.http
        .post('/api/usage/record')
        .set(bearer(u.jwt))
        .send({ service: 'chat', operation: 'c', credits: 5, ...extra })
        .expect(400);
      expect([res.body.message].flat()).toEqual(expect.arrayContaining([expect.stringMatching(why)]));
      expect(await counts(u.id)).toEqual({ records: 0, entries: 1 });
      const anywhere = await t.db.query(`SELECT count(*)::int AS n FROM usage_records WHERE user_id = 'someone-else'`);
      expect(anywhere.rows[0].n).toBe(0);
    });

    it('0 credits records without a debit', async () => {
      const u = await f.newUser();
      const res = await t.http
        .post('/api/usage/record')
        .set(bearer(u.jwt))
        .send({ service: 'free', operation: 'ping', credits: 0 })
        .expect(201);
      expect(res.body.credits).toBe(0);
      expect(await counts(u.id)).toEqual({ records: 1, entries: 0 });
    });

    it('API keys: usage:write records, usage:read reads; supervisor routes refuse keys', async () => {
      const u = await f.newUser({ credits: 100 });
      const keyFor = async (permissions: string[]) =>
        (await f.apiKey(u, { name: `k-${permissions.join('-')}`, permissions })).key;
      const writer = await keyFor(['usage:write']);
      const reader = await keyFor(['usage:read']);
      const rec = await t.http
        .post('/api/usage/record')
        .set('X-API-Key', writer)
        .send({ service: 'chat', operation: 'c', credits: 2 })
        .expect(201);
      expect(rec.body.userId).toBe(u.id);
      await t.http
        .post('/api/usage/record')
        .set('X-API-Key', reader)
        .send({ service: 'chat', operation: 'c', credits: 2 })
        .expect(403);
      await t.http.get('/api/usage/stats').set('X-API-Key', writer).expect(403);
      const stats = await t.http.get('/api/usage/stats').set('X-API-Key', reader).expect(200);
      expect(stats.body).toMatchObject({ userId: u.id, totalRecords: 1, totalCredits: 2 });
      const list = await t.http.get('/api/usage/records').set('X-API-Key', reader).expect(200);
      expect(list.body.items.map((r: { id: string }) => r.id)).toEqual([rec.body.id]);
      await t.http.get(`/api/usage/stats/${u.id}`).set('X-API-Key', reader).expect(403);
      await t.http.get('/api/usage/system-stats').set('X-API-Key', reader).expect(403);
      expect(await counts(u.id)).toEqual({ records: 1, entries: 2 });
    });

    it('needs authentication', async () => {
      await t.http.post('/api/usage/record').send({ service: 'chat', operation: 'c', credits: 1 }).expect(401);
    });
  });

  describe('statistics', () => {
    let fx: FixtureUser;
    beforeAll(async () => {
      fx = await f.newUser({ track: false });
      // Fixtures across days, services and models, inserted directly (timestamps in the past).
      await t.db.query(
        `INSERT INTO usage_records (user_id, "timestamp", service, operation, credits, model_id, account_id) VALUES
          ($1, '2024-03-01T00:00:00Z',     'chat',           'completion', 10, $2, (SELECT account_id FROM accounts WHERE user_id = $1::varchar)),
          ($1, '2024-03-01T23:59:59.999Z', 'chat',           'summarise',   5, NULL, (SELECT account_id FROM accounts WHERE user_id = $1::varchar)),
          ($1, '2024-03-02T12:00:00Z',     'chat-streaming', 'stream',      7, NULL, (SELECT account_id FROM accounts WHERE user_id = $1::varchar)),
          ($1, '2024-03-02T12:30:00Z',     'embeddings',     'embed',       3, NULL, (SELECT account_id FROM accounts WHERE user_id = $1::varchar)),
          ($1, '2024-03-03T00:00:00Z',     'embeddings',     'embed',      20, $3, (SELECT account_id FROM accounts WHERE user_id = $1::varchar)),
          ($1, '2024-03-04T08:00:00Z',     'chat',           'completion',  1, $2, (SELECT account_id FROM accounts WHERE user_id = $1::varchar))`,
        [fx.id, HAIKU, SONNET],
      );
    });

    it('breaks totals down by service, UTC day and model (chat without a model by operation)', async () => {
      const res = await t.http.get('/api/usage/stats').set(bearer(fx.jwt)).expect(200);
      expect(res.body).toMatchObject({
        userId: fx.id,
        totalRecords: 6,
        totalCredits: 46,
        byService: { chat: 16, 'chat-streaming': 7, embeddings: 23 },
        byDay: { '2024-03-01': 15, '2024-03-02': 10, '2024-03-03': 20, '2024-03-04': 1 },
        byModel: { [HAIKU]: 11, summarise: 5, stream: 7, [SONNET]: 20 },
      });
      // embeddings without a model has no model key.
      expect(Object.keys(res.body.byModel).sort()).toEqual([HAIKU, SONNET, 'stream', 'summarise'].sort());
    });

    it('treats bounds as inclusive and a date-only endDate as the whole day', async () => {
      const day = await t.http
        .get('/api/usage/stats?startDate=2024-03-01&endDate=2024-03-01')
        .set(bearer(fx.jwt))
        .expect(200);
      expect(day.body).toMatchObject({ totalRecords: 2, totalCredits: 15, byDay: { '2024-03-01': 15 } });
      const exact = await t.http
        .get('/api/usage/stats?startDate=2024-03-01T23:59:59.999Z&endDate=2024-03-03T00:00:00Z')
        .set(bearer(fx.jwt))
        .expect(200);
      expect(exact.body).toMatchObject({ totalRecords: 4, totalCredits: 35 });
      const none = await t.http.get('/api/usage/stats?startDate=2030-01-01').set(bearer(fx.jwt)).expect(200);
      expect(none.body).toMatchObject({
        totalRecords: 0,
        totalCredits: 0,
        byService: {},
        byDay: {},
        byModel: {},
        recentActivity: [],
      });
    });

    it.each([
      'startDate=yesterday',
      'endDate=2024-02-30',
      'startDate=2024-03-02&endDate=2024-03-01',
      'startDate=2024-03-01T10:00:00Z&endDate=2024-03-01T09:59:59Z',
    ])('400 for %s', async (q) => {
      await t.http.get(`/api/usage/stats?${q}`).set(bearer(fx.jwt)).expect(400);
      await t.http.get(`/api/usage/system-stats?${q}`).set(bearer(admin)).expect(400);
      await t.http.get(`/api/usage/records?${q}`).set(bearer(fx.jwt)).expect(400);
    });

    it('recentActivity holds the 10 newest records, newest first', async () => {
      const u = await f.newUser({ track: false });
      await t.db.query(
        `INSERT INTO usage_records (user_id, "timestamp", service, operation, credits, account_id)
         SELECT $1, '2024-05-01T00:00:00Z'::timestamptz + g * interval '1 minute', 'chat', 'op-' || g, g,
                (SELECT account_id FROM accounts WHERE user_id = $1::varchar) FROM generate_series(1, 12) g`,
        [u.id],
      );
      const res = await t.http.get('/api/usage/stats').set(bearer(u.jwt)).expect(200);
      expect(res.body.recentActivity).toHaveLength(10);
      expect(res.body.recentActivity.map((r: { operation: string }) => r.operation)).toEqual(
        Array.from({ length: 10 }, (_, i) => `op-${12 - i}`),
      );
      expect(res.body.recentActivity[0]).toMatchObject({
        userId: u.id,
        credits: 12,
        timestamp: '2024-05-01T00:12:00.000Z',
      });
      expect(res.body.totalRecords).toBe(12);
    });

    it('stats/:userId is for supervisors and admins; users get 404 for another’s, 403 for their own', async () => {
      const viaSupervisor = await t.http.get(`/api/usage/stats/${fx.id}`).set(bearer(supervisor)).expect(200);
      expect(viaSupervisor.body).toMatchObject({ userId: fx.id, totalCredits: 46 });
      await t.http.get(`/api/usage/stats/${fx.id}`).set(bearer(admin)).expect(200);
      const other = await f.newUser();
      // Another user's account: 404 (as for none); the user's own needs supervisor on this route: 403.
      await t.http.get(`/api/usage/stats/${fx.id}`).set(bearer(other.jwt)).expect(404);
      await t.http.get(`/api/usage/stats/${other.id}`).set(bearer(other.jwt)).expect(403);
      await t.http
        .get(`/api/usage/stats/${uniqueId('nobody')}`)
        .set(bearer(supervisor))
        .expect(404);
      await t.http.get(`/api/usage/stats/${fx.id}`).expect(401);
    });

    it('system-stats: admin only; totals, top users, margins per model over a window', async () => {
      // A window in 2001 that only this test writes to (other spec files share the database).
      const a = await f.newUser({ track: false });
      const b = await f.newUser({ track: false });
      const c = await f.newUser({ track: false });
      const tag = randomUUID().slice(0, 6);
      await t.db.query(
        `INSERT INTO usage_records (user_id, "timestamp", service, operation, credits, model_id, provider_cost, account_id) VALUES
          ($1, '2001-06-01T10:00:00Z', 'chat',        'completion', 100, 'm-' || $4, 0.5, (SELECT account_id FROM accounts WHERE user_id = $1::varchar)),
          ($1, '2001-06-02T10:00:00Z', 'chat',        'completion',  50, 'm-' || $4, 0.25, (SELECT account_id FROM accounts WHERE user_id = $1::varchar)),
          ($2, '2001-06-02T11:00:00Z', 'chat',        'free-chat',   30, NULL,       NULL, (SELECT account_id FROM accounts WHERE user_id = $2::varchar)),
          ($2, '2001-06-03T23:59:59Z', 'images',      'draw',        20, NULL,       NULL, (SELECT account_id FROM accounts WHERE user_id = $2::varchar)),
          ($3, '2001-06-03T00:00:00Z', 'embeddings',  'embed',       10, 'e-' || $4, 0.001, (SELECT account_id FROM accounts WHERE user_id = $3::varchar))`,
        [a.id, b.id, c.id, tag],
      );
      const q = 'startDate=2001-06-01&endDate=2001-06-03';
      await t.http.get(`/api/usage/system-stats?${q}`).set(bearer(supervisor)).expect(403);
      await t.http.get(`/api/usage/system-stats?${q}`).set(bearer(a.jwt)).expect(403);
      const res = await t.http.get(`/api/usage/system-stats?${q}`).set(bearer(admin)).expect(200);
      expect(res.body).toEqual({
        totalRecords: 5,
        totalCredits: 210,
        userCount: 3,
        byUser: { [a.id]: 150, [b.id]: 50, [c.id]: 10 },
        byService: { chat: 180, images: 20, embeddings: 10 },
        byDay: { '2001-06-01': 100, '2001-06-02': 80, '2001-06-03': 30 },
        byModel: { [`m-${tag}`]: 150, 'free-chat': 30, [`e-${tag}`]: 10 },
        tokensByKind: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0 },
        byServiceTier: { default: 210 },
        unitsByName: {},
        providerCost: '0.751',
        marginByModel: {
          [`m-${tag}`]: { credits: 150, providerCost: '0.75' },
          'free-chat': { credits: 30, providerCost: null },
          [`e-${tag}`]: { credits: 10, providerCost: '0.001' },
        },
      });
      expect(Object.keys(res.body.byUser)).toEqual([a.id, b.id, c.id]);
      // The same answer once the pending deltas are folded into the daily rollups.
      await t.app.get(UsageStatsService).compactRollups();
      const compacted = await t.http.get(`/api/usage/system-stats?${q}`).set(bearer(admin)).expect(200);
      expect(compacted.body).toEqual(res.body);
      // Partial days at both edges come from the records themselves (inclusive date-time bounds).
      const partial = await t.http
        .get('/api/usage/system-stats?startDate=2001-06-01T10:00:00.000001Z&endDate=2001-06-03T00:00:00Z')
        .set(bearer(admin))
        .expect(200);
      expect(partial.body).toMatchObject({
        totalRecords: 3,
        totalCredits: 90,
        userCount: 3,
        byUser: { [a.id]: 50, [b.id]: 30, [c.id]: 10 },
        byDay: { '2001-06-02': 80, '2001-06-03': 10 },
        providerCost: '0.251',
      });
      const top = await t.http.get(`/api/usage/system-stats?${q}&topUsers=2`).set(bearer(admin)).expect(200);
      expect(top.body.byUser).toEqual({ [a.id]: 150, [b.id]: 50 });
      expect(top.body.userCount).toBe(3);
      await t.http.get(`/api/usage/system-stats?${q}&topUsers=1001`).set(bearer(admin)).expect(400);
      await t.http.get(`/api/usage/system-stats?${q}&topUsers=0`).set(bearer(admin)).expect(400);
      // Deleting a record (fixtures only) is reflected too.
      await t.db.query(`DELETE FROM usage_records WHERE user_id = $1 AND service = 'embeddings'`, [c.id]);
      const afterDelete = await t.http.get(`/api/usage/system-stats?${q}`).set(bearer(admin)).expect(200);
      expect(afterDelete.body).toMatchObject({
        totalRecords: 4,
        totalCredits: 200,
        userCount: 2,
        byService: { chat: 180, images: 20 },
      });
      expect(afterDelete.body.byModel[`e-${tag}`]).toBeUndefined();
      expect(afterDelete.body.byUser[c.id]).toBeUndefined();
    });
  });

  describe('GET /api/usage/records', () => {
    it('pages newest first without duplicates or gaps while records are being inserted', async () => {
      const u = await f.newUser({ credits: 1_000, track: false });
      await t.db.query(
        `INSERT INTO usage_records (user_id, "timestamp", service, operation, credits, account_id)
         SELECT $1, '2024-06-01T00:00:00Z'::timestamptz + (g / 3) * interval '1 second' + (g % 3) * interval '1 microsecond', 'chat', 'op-' || g, 1, (SELECT account_id FROM accounts WHERE user_id = $1::varchar)
           FROM generate_series(1, 95) g`,
        [u.id],
      );
      const existing = (await t.db.query(`SELECT id FROM usage_records WHERE user_id = $1`, [u.id])).rows.map(
        (r) => r.id as string,
      );
      // Ten more records (same timestamps as the fixtures too) arrive while we page.
      const inserts = (async () => {
        for (let i = 0; i < 10; i++) {
          await t.http
            .post('/api/usage/record')
            .set(bearer(u.jwt))
            .send({ service: 'chat', operation: `live-${i}`, credits: 1 })
            .expect(201);
          await t.db.query(
            `INSERT INTO usage_records (user_id, "timestamp", service, operation, credits, account_id) VALUES ($1, '2024-06-01T00:00:10Z', 'chat', 'late', 1, (SELECT account_id FROM accounts WHERE user_id = $1::varchar))`,
            [u.id],
          );
        }
      })();
      const seen: string[] = [];
      const timestamps: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { items: { id: string; timestamp: string }[]; nextCursor: string | null } } = await t.http
          .get(`/api/usage/records?limit=7${cursor ? `&cursor=${cursor}` : ''}`)
          .set(bearer(u.jwt))
          .expect(200);
        seen.push(...page.body.items.map((i) => i.id));
        timestamps.push(...page.body.items.map((i) => i.timestamp));
        cursor = page.body.nextCursor;
      } while (cursor);
      await inserts;
      expect(new Set(seen).size).toBe(seen.length);
      for (const id of existing) expect(seen).toContain(id);
      expect([...timestamps].sort().reverse()).toEqual(timestamps);
    });

    it('filters by service and dates; users see only their own, supervisors anyone', async () => {
      const u = await f.newUser({ track: false });
      const other = await f.newUser({ track: false });
      await t.db.query(
        `INSERT INTO usage_records (user_id, "timestamp", service, operation, credits, account_id) VALUES
          ($1, '2024-07-01T00:00:00Z', 'chat', 'a', 1, (SELECT account_id FROM accounts WHERE user_id = $1::varchar)), ($1, '2024-07-02T00:00:00Z', 'images', 'b', 2, (SELECT account_id FROM accounts WHERE user_id = $1::varchar)),
          ($1, '2024-07-03T00:00:00Z', 'chat', 'c', 3, (SELECT account_id FROM accounts WHERE user_id = $1::varchar)), ($2, '2024-07-01T00:00:00Z', 'chat', 'x', 9, (SELECT account_id FROM accounts WHERE user_id = $2::varchar))`,
        [u.id, other.id],
      );
      const own = await t.http.get('/api/usage/records').set(bearer(u.jwt)).expect(200);
      expect(own.body.items.map((r: { operation: string }) => r.operation)).toEqual(['c', 'b', 'a']);
      expect(own.body.nextCursor).toBeNull();
      const chat = await t.http
        .get('/api/usage/records?service=chat&endDate=2024-07-01')
        .set(bearer(u.jwt))
        .expect(200);
      expect(chat.body.items.map((r: { operation: string }) => r.operation)).toEqual(['a']);
      // BOLA: another user's records need supervisor.
      await t.http.get(`/api/usage/records?userId=${other.id}`).set(bearer(u.jwt)).expect(404);
      const sup = await t.http.get(`/api/usage/records?userId=${other.id}`).set(bearer(supervisor)).expect(200);
      expect(sup.body.items.map((r: { operation: string }) => r.operation)).toEqual(['x']);
      await t.http.get('/api/usage/records?cursor=not-a-cursor').set(bearer(u.jwt)).expect(400);
      await t.http.get('/api/usage/records?limit=501').set(bearer(u.jwt)).expect(400);
      await t.http.get('/api/usage/records?format=xml').set(bearer(u.jwt)).expect(400);
    });

    it('format=csv streams text/csv with a header row and one line per record', async () => {
      const u = await f.newUser({ track: false });
      await t.db.query(
        `INSERT INTO usage_records (user_id, "timestamp", service, operation, credits, model_id, metadata, account_id)
         SELECT $1, '2024-08-01T00:00:00Z'::timestamptz + g * interval '1 second', 'chat', 'op-' || g, g, $2,
                CASE WHEN g = 1 THEN '{"note":"a, \\"quoted\\" value"}'::jsonb END, (SELECT account_id FROM accounts WHERE user_id = $1::varchar)
           FROM generate_series(1, 2500) g`,
        [u.id, HAIKU],
      );
      const res = await t.http
        .get('/api/usage/records?format=csv')
        .set(bearer(u.jwt))
        .buffer(true)
        .parse((r, cb) => {
          let text = '';
          r.on('data', (c: Buffer) => (text += c.toString()));
          r.on('end', () => cb(null, text));
        });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      const lines = (res.body as string).split('\r\n').filter(Boolean);
      expect(lines[0]).toBe(
        'id,userId,timestamp,service,operation,credits,modelId,tokens,inputTokens,outputTokens,cacheReadTokens,' +
          'cacheWriteTokens,reasoningTokens,billingStatus,metadata,apiKeyId,actorId,orgId,serviceTier,units',
      );
      expect(lines).toHaveLength(2501);
      expect(lines[1]).toMatch(
        new RegExp(
          `^"[0-9a-f-]{36}","${u.id}","2024-08-01T00:41:40.000Z","chat","op-2500",2500,"${HAIKU.replace(/\./g, '\\.')}",,,,,,,"billed",,,,,,$`,
        ),
      );
      expect(lines[2500]).toContain(',"op-1",1,');
      expect(lines[2500]).toContain('"{""note"":""a, \\""quoted\\"" value""}"');
      // Another user's export is refused the same way as the list.
      const other = await f.newUser();
      await t.http.get(`/api/usage/records?format=csv&userId=${u.id}`).set(bearer(other.jwt)).expect(404);
    });
  });
});
