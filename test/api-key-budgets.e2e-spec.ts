import { randomUUID } from 'node:crypto';

import { Ajv } from 'ajv';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_SCOPES } from '../src/auth/roles.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * API key budgets (docs/spend-controls.md): a key's credit limit per UTC period, counted by the
 * credits module in credit_cap_spend. Prices: a model of this file at 10 credits per 1k tokens, so
 * a session of 1000 estimated tokens holds 12 and settles 450 tokens at 5, 2000 at 20.
 */
describe('api key budgets', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const model = `budget-test-${randomUUID().slice(0, 8)}`;

  interface KeyView {
    id: string;
    key: string;
    creditLimit: number | null;
    limitPeriod: string | null;
    spentInPeriod: number | null;
    periodResetsAt: string | null;
  }

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'kb' });
    const rule = await t.http
      .post('/api/pricing')
      .set(bearer(tokenFor('admin', 'budget-admin')))
      .send({ modelId: model, pricePer1kTokens: '10', outputPricePer1kTokens: '30' });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
  });
  afterAll(() => t.close());
  afterEach(async () => {
    await expectInvariants(t, users);
  });

  const rich = () => f.newUser({ credits: 1000 });

  async function createKey(jwt: string, body: Record<string, unknown>): Promise<KeyView> {
    const res = await t.http
      .post('/api/api-keys')
      .set(bearer(jwt))
      .send({ name: 'budget', ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }
  const view = async (jwt: string, id: string): Promise<KeyView> =>
    (await t.http.get(`/api/api-keys/${id}`).set(bearer(jwt)).expect(200)).body;
  const patch = (auth: Record<string, string>, id: string, body: Record<string, unknown>) =>
    t.http.patch(`/api/api-keys/${id}`).set(auth).send(body);
  const record = (key: string, credits: number) =>
    t.http.post('/api/usage/record').set('X-API-Key', key).send({ service: 'chat', operation: 'completion', credits });
  const init = (key: string, estimatedTokens: number, sessionId = `budget-${randomUUID()}`) =>
    t.http
      .post('/api/streaming-sessions/initialize')
      .set('X-API-Key', key)
      .send({ modelId: model, sessionId, estimatedTokens });
  const finalize = (key: string, sessionId: string, actualTokens: number) =>
    t.http.post('/api/streaming-sessions/finalize').set('X-API-Key', key).send({ sessionId, actualTokens });
  const dbInstant = async (sql: string): Promise<string> =>
    ((await t.db.query(`SELECT (${sql}) AS at`)).rows[0].at as Date).toISOString();
  const expectKeyLimit = (res: { status: number; body: Record<string, unknown> }) => {
    expect(res.status, JSON.stringify(res.body)).toBe(402);
    expect(res.body).toMatchObject({
      statusCode: 402,
      message: expect.stringContaining('limit'),
      error: 'Payment Required',
      code: 'KEY_LIMIT_EXCEEDED',
    });
  };

  describe('views', () => {
    it('a key without a limit shows four nulls; a limit defaults to total, which never resets', async () => {
      const u = await rich();
      const plain = await createKey(u.jwt, {});
      expect(plain).toMatchObject({ creditLimit: null, limitPeriod: null, spentInPeriod: null, periodResetsAt: null });
      const total = await createKey(u.jwt, { creditLimit: 10 });
      expect(total).toMatchObject({ creditLimit: 10, limitPeriod: 'total', spentInPeriod: 0, periodResetsAt: null });
      const listed = await t.http.get('/api/api-keys').set(bearer(u.jwt)).expect(200);
      expect(listed.body.items.map((k: KeyView) => [k.id, k.creditLimit, k.spentInPeriod])).toEqual([
        [total.id, 10, 0],
        [plain.id, null, null],
      ]);
    });

    it.each([
      ['day', `date_trunc('day', now(), 'UTC') + interval '1 day'`],
      ['week', `date_trunc('week', now(), 'UTC') + interval '1 week'`],
      ['month', `date_trunc('month', now(), 'UTC') + interval '1 month'`],
    ])('a %s limit resets at the start of the next UTC period', async (limitPeriod, next) => {
      const u = await rich();
      const created = await createKey(u.jwt, { creditLimit: 5, limitPeriod });
      expect(created).toMatchObject({ creditLimit: 5, limitPeriod, spentInPeriod: 0 });
      expect(created.periodResetsAt).toBe(await dbInstant(next));
    });
  });

  describe('spending through a key', () => {
    it('30 parallel records of 1 against a limit of 10: exactly 10 pass, 20 get KEY_LIMIT_EXCEEDED', async () => {
      const u = await rich();
      const k = await createKey(u.jwt, { creditLimit: 10, limitPeriod: 'day' });
      const answers = await Promise.all(Array.from({ length: 30 }, () => record(k.key, 1)));
      const statuses = answers.map((r) => r.status).sort();
      expect(statuses).toEqual([...Array(10).fill(201), ...Array(20).fill(402)]);
      for (const refused of answers.filter((r) => r.status === 402)) {
        expectKeyLimit(refused);
        expect(refused.body.requiredCredits).toBe(1);
      }
      expect((await view(u.jwt, k.id)).spentInPeriod).toBe(10);
      const debits = (await f.ledger(u.id)).filter((l) => l.kind === 'debit');
      expect(debits.map((d) => d.amount)).toEqual(Array(10).fill(-1));
      const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM usage_records WHERE user_id = $1`, [u.id]);
      expect(rows[0].n).toBe(10);
      const balance = await t.http.get('/api/credits/balance').set(bearer(u.jwt)).expect(200);
      expect(balance.body.totalCredits).toBe(990);
      await expectInvariants(t, [u.id]);
    });

    it('the same user spends on with a JWT or another key: the budget is the key’s', async () => {
      const u = await rich();
      const k = await createKey(u.jwt, { creditLimit: 2 });
      const other = await createKey(u.jwt, {});
      await record(k.key, 2).expect(201);
      expectKeyLimit(await record(k.key, 1));
      await record(other.key, 5).expect(201);
      await t.http
        .post('/api/usage/record')
        .set(bearer(u.jwt))
        .send({ service: 'chat', operation: 'completion', credits: 5 })
        .expect(201);
      expect((await view(u.jwt, k.id)).spentInPeriod).toBe(2);
    });

    it('a hold counts at its held amount; a settlement using less gives the difference back', async () => {
      const u = await rich();
      const k = await createKey(u.jwt, { creditLimit: 20, limitPeriod: 'week' });
      const started = await init(k.key, 1000).expect(201);
      expect(started.body.allocatedCredits).toBe(12);
      expect((await view(u.jwt, k.id)).spentInPeriod).toBe(12);

      // 12 + 12 > 20: refused, and neither a session nor a hold is written.
      const sessionId = `budget-${randomUUID()}`;
      expectKeyLimit(await init(k.key, 1000, sessionId));
      const { rows } = await t.db.query(
        `SELECT 1 FROM streaming_sessions WHERE session_id = $1 UNION ALL SELECT 1 FROM credit_holds WHERE session_id = $1`,
        [sessionId],
      );
      expect(rows).toEqual([]);

      const settled = await finalize(k.key, started.body.sessionId, 450).expect(200);
      expect(settled.body).toMatchObject({ actualCredits: 5, refund: 7 });
      expect((await view(u.jwt, k.id)).spentInPeriod).toBe(5);
      await record(k.key, 15).expect(201);
      expectKeyLimit(await record(k.key, 1));
      expect((await view(u.jwt, k.id)).spentInPeriod).toBe(20);
    });

    it('a settlement overrun counts even beyond the limit, and is not refused', async () => {
      const u = await rich();
      const k = await createKey(u.jwt, { creditLimit: 15 });
      const started = await init(k.key, 1000).expect(201);
      const settled = await finalize(k.key, started.body.sessionId, 2000).expect(200);
      expect(settled.body).toMatchObject({ allocatedCredits: 12, actualCredits: 20, refund: 0, shortfall: 0 });
      expect((await view(u.jwt, k.id)).spentInPeriod).toBe(20);
      expectKeyLimit(await record(k.key, 1));
      const debits = (await f.ledger(u.id)).filter((l) => l.kind === 'debit');
      expect(debits.map((d) => d.amount)).toEqual([-8]);
    });

    it('a new period starts from 0: the counter of an earlier period does not count', async () => {
      const u = await rich();
      for (const [limitPeriod, back] of [
        ['day', '1 day'],
        ['week', '7 days'],
        ['month', '1 month'],
      ]) {
        const k = await createKey(u.jwt, { creditLimit: 3, limitPeriod });
        await record(k.key, 3).expect(201);
        expectKeyLimit(await record(k.key, 1));
        await t.db.query(
          `UPDATE credit_cap_spend SET period_start = period_start - CAST($2 AS interval)
            WHERE subject_kind = 'key' AND subject_id = $1`,
          [k.id, back],
        );
        expect((await view(u.jwt, k.id)).spentInPeriod, limitPeriod).toBe(0);
        await record(k.key, 3).expect(201);
        expect((await view(u.jwt, k.id)).spentInPeriod, limitPeriod).toBe(3);
        expectKeyLimit(await record(k.key, 1));
      }
    });
  });

  it('the 402 of records and holds documents KEY_LIMIT_EXCEEDED with an example that is true', async () => {
    const u = await rich();
    const k = await createKey(u.jwt, { creditLimit: 4 });
    const refused = await record(k.key, 5);
    expectKeyLimit(refused);
    const doc = (await t.http.get('/api/docs-json').expect(200)).body;
    const ajv = new Ajv({ strict: false });
    for (const [path, res] of [
      ['/api/usage/record', refused],
      ['/api/streaming-sessions/initialize', await init(k.key, 1000)],
    ] as const) {
      const documented = doc.paths[path].post.responses['402'].content['application/json'];
      // The example is the real answer, but for the amount asked (5 for the record, a hold of 12).
      expect(res.body, path).toEqual({
        ...documented.examples.keyLimit.value,
        requiredCredits: res.body.requiredCredits,
      });
      expect(res.body.requiredCredits, path).toBe(path === '/api/usage/record' ? 5 : 12);
      const validate = ajv.compile({ ...documented.schema, components: doc.components });
      expect(validate(res.body), `${path}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
  });

  describe('PATCH /api/api-keys/:id', () => {
    it('raising the limit lets spending continue; what was spent stays counted', async () => {
      const u = await rich();
      const k = await createKey(u.jwt, { creditLimit: 5, limitPeriod: 'month' });
      await record(k.key, 5).expect(201);
      expectKeyLimit(await record(k.key, 1));
      const raised = await patch(bearer(u.jwt), k.id, { creditLimit: 8 }).expect(200);
      expect(raised.body).toMatchObject({ id: k.id, creditLimit: 8, limitPeriod: 'month', spentInPeriod: 5 });
      expect(raised.body.periodResetsAt).toBe(
        await dbInstant(`date_trunc('month', now(), 'UTC') + interval '1 month'`),
      );
      await record(k.key, 3).expect(201);
      expectKeyLimit(await record(k.key, 1));
      const lowered = await patch(bearer(u.jwt), k.id, { creditLimit: 4 }).expect(200);
      expect(lowered.body).toMatchObject({ creditLimit: 4, spentInPeriod: 8 });
      expectKeyLimit(await record(k.key, 1));
    });

    it('creditLimit null removes the limit and its period; spending is no longer capped', async () => {
      const u = await rich();
      const k = await createKey(u.jwt, { creditLimit: 2, limitPeriod: 'day' });
      await record(k.key, 2).expect(201);
      const removed = await patch(bearer(u.jwt), k.id, { creditLimit: null }).expect(200);
      expect(removed.body).toMatchObject({ creditLimit: null, limitPeriod: null, spentInPeriod: null });
      expect(removed.body.periodResetsAt).toBeNull();
      await record(k.key, 50).expect(201);
      const { rows } = await t.db.query(
        `SELECT c.credit_limit::int AS credit_limit, c.period AS limit_period FROM credit_caps c
          WHERE c.subject_kind = 'key' AND c.subject_id = $1 AND c.account_id = 0`,
        [k.id],
      );
      expect(rows[0]).toEqual({ credit_limit: null, limit_period: null });
    });

    it('a limit on a key without one counts over total; a new period starts counting in that period', async () => {
      const u = await rich();
      const k = await createKey(u.jwt, {});
      const limited = await patch(bearer(u.jwt), k.id, { creditLimit: 4 }).expect(200);
      expect(limited.body).toMatchObject({ creditLimit: 4, limitPeriod: 'total', spentInPeriod: 0 });
      await record(k.key, 4).expect(201);
      expectKeyLimit(await record(k.key, 1));
      const daily = await patch(bearer(u.jwt), k.id, { limitPeriod: 'day' }).expect(200);
      expect(daily.body).toMatchObject({ creditLimit: 4, limitPeriod: 'day', spentInPeriod: 0 });
      await record(k.key, 4).expect(201);
      expect((await view(u.jwt, k.id)).spentInPeriod).toBe(4);
    });

    it('renames a key without touching its budget', async () => {
      const u = await rich();
      const k = await createKey(u.jwt, { creditLimit: 7, limitPeriod: 'week' });
      const renamed = await patch(bearer(u.jwt), k.id, { name: 'renamed' }).expect(200);
      expect(renamed.body).toMatchObject({ name: 'renamed', creditLimit: 7, limitPeriod: 'week', spentInPeriod: 0 });
      expect(renamed.body).not.toHaveProperty('key');
    });

    it('owner and admin may; another user gets 404, an API key 403, no credentials 401', async () => {
      const u = await rich();
      const k = await createKey(u.jwt, { creditLimit: 10 });
      await patch(bearer(u.jwt), k.id, { creditLimit: 11 }).expect(200);
      const admin = bearer(token({ sub: uniqueId('adm'), role: 'admin' }));
      const byAdmin = await patch(admin, k.id, { creditLimit: 12 }).expect(200);
      expect(byAdmin.body).toMatchObject({ userId: u.id, creditLimit: 12 });

      const other = bearer(token({ sub: uniqueId('other') }));
      const notFound = await patch(other, k.id, { creditLimit: 1000 }).expect(404);
      expect(notFound.body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
      await patch(other, randomUUID(), { creditLimit: 1000 }).expect(404);
      await patch({ 'X-API-Key': k.key }, k.id, { creditLimit: 1000 }).expect(403);
      await patch({}, k.id, { creditLimit: 1000 }).expect(401);
      expect((await view(u.jwt, k.id)).creditLimit).toBe(12);
    });
  });

  describe('validation', () => {
    it.each([
      ['creditLimit 0', { creditLimit: 0 }],
      ['a negative creditLimit', { creditLimit: -5 }],
      ['a fractional creditLimit', { creditLimit: 1.5 }],
      ['a creditLimit string', { creditLimit: '10' }],
      ['creditLimit null', { creditLimit: null }],
      ['a creditLimit beyond integer', { creditLimit: 2_147_483_648 }],
      ['limitPeriod without creditLimit', { limitPeriod: 'day' }],
      ['an unknown period', { creditLimit: 10, limitPeriod: 'year' }],
      ['limitPeriod null', { creditLimit: 10, limitPeriod: null }],
      ['an unknown field', { creditLimit: 10, spentInPeriod: 0 }],
    ])('create refuses %s with 400 and creates nothing', async (_case, body) => {
      const u = await rich();
      const res = await t.http
        .post('/api/api-keys')
        .set(bearer(u.jwt))
        .send({ name: 'x', ...body });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM api_keys WHERE user_id = $1`, [u.id]);
      expect(rows[0].n).toBe(0);
    });

    it('PATCH refuses bad bodies with 400 and changes nothing', async () => {
      const u = await rich();
      const k = await createKey(u.jwt, { creditLimit: 10, limitPeriod: 'day' });
      const plain = await createKey(u.jwt, {});
      for (const [id, body] of [
        [k.id, { creditLimit: 0 }],
        [k.id, { creditLimit: 2.5 }],
        [k.id, { limitPeriod: 'year' }],
        [k.id, { limitPeriod: null }],
        [k.id, { creditLimit: null, limitPeriod: 'week' }],
        [k.id, { name: '' }],
        [k.id, { name: null }],
        [k.id, { permissions: ['credits:read'] }],
        [k.id, {}],
        [plain.id, { limitPeriod: 'day' }],
        ['not-a-uuid', { creditLimit: 5 }],
      ] as const) {
        const res = await patch(bearer(u.jwt), id, body);
        expect(res.status, `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`).toBe(400);
        expect(res.body.statusCode).toBe(400);
      }
      const { rows } = await t.db.query(
        `SELECT k.name, c.credit_limit::int AS credit_limit, c.period AS limit_period, k.permissions FROM api_keys k
           LEFT JOIN credit_caps c ON c.subject_kind = 'key' AND c.subject_id = k.id::varchar AND c.account_id = 0
          WHERE k.user_id = $1 ORDER BY k.created_at`,
        [u.id],
      );
      expect(rows.map((r) => [r.name, r.credit_limit, r.limit_period, r.permissions.length])).toEqual([
        ['budget', 10, 'day', DEFAULT_SCOPES.length],
        ['budget', null, null, DEFAULT_SCOPES.length],
      ]);
    });
  });
});
