import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SubscriptionRenewalJob } from '../src/plans/subscription-renewal.job.js';
import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { passTime } from './support/clock.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

const admin = bearer(tokenFor('admin', 'volume-admin'));

/**
 * Volume steps (docs/pricing.md "Volume steps"): a rule at 1 credit a token (1000 per 1,000), steps
 * up to 1,000 tokens at 100 %, up to 3,000 at 50 %, beyond at 25 %; one rule `graduated`, one
 * `volume`, both over the UTC month. Every case is a fresh account, so its period total starts at 0.
 */
describe('volume steps', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const graduated = uniqueId('openai.grad');
  const volume = uniqueId('openai.vol');
  const steps = [
    { upTo: 1000, pricePercent: 100 },
    { upTo: 3000, pricePercent: '50' },
    { upTo: null, pricePercent: 25 },
  ];
  const post = (path: string, body: object) => t.http.post(path).set(admin).send(body);
  const record = async (user: FixtureUser, model: string, tokens: number, extra: object = {}) => {
    const res = await post('/api/usage/record', {
      userId: user.id,
      service: 'chat',
      operation: 'c',
      modelId: model,
      tokens,
      ...extra,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { id: string; credits: number; volumeStep: number | null };
  };
  const ledger = async (accountOf: string, column: 'user_id' | 'org_id' = 'user_id') =>
    (
      await t.db.query(
        `SELECT l.kind, l.amount, l.category, a.source, a.expires_at, a.total_credits
           FROM credit_ledger l LEFT JOIN credit_allocations a ON a.id = l.allocation_id
          WHERE l.account_id = (SELECT account_id FROM accounts WHERE ${column} = $1) ORDER BY l.id`,
        [accountOf],
      )
    ).rows as { kind: string; amount: number; category: string; source: string; expires_at: Date }[];
  const spent = (lines: { kind: string; amount: number }[]) =>
    -lines.filter((l) => l.kind === 'debit').reduce((sum, l) => sum + l.amount, 0);
  /** The rule in force for a model, as the list of current rules answers it. */
  const ruleOf = async (modelId: string) =>
    (
      (await t.http.get('/api/pricing').set(admin).expect(200)).body.items as { modelId: string; volume: unknown }[]
    ).find((r) => r.modelId === modelId)!;
  const givenBack = (lines: { kind: string; amount: number }[]) =>
    lines.filter((l) => l.kind === 'volume_adjustment').reduce((sum, l) => sum + l.amount, 0);

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'vol' });
    for (const [modelId, mode] of [
      [graduated, 'graduated'],
      [volume, 'volume'],
    ]) {
      const rule = await post('/api/pricing', {
        modelId,
        pricePer1kTokens: '1000',
        serviceTiers: { flex: { pricePercent: 50 } },
        volume: { mode, period: 'month', steps },
      });
      expect(rule.status, JSON.stringify(rule.body)).toBe(201);
      expect(rule.body.volume).toEqual({
        mode,
        period: 'month',
        steps: [
          { upTo: 1000, pricePercent: '100.00' },
          { upTo: 3000, pricePercent: '50.00' },
          { upTo: null, pricePercent: '25.00' },
        ],
      });
    }
    // Late usage is priced by the rule in force when it occurred: the rules start two months back (set
    // by SQL: the route refuses a start in the past).
    await t.db.query(
      `UPDATE pricing_rules SET effective_from = now() - interval '75 days' WHERE model_id IN ($1, $2)`,
      [graduated, volume],
    );
  });
  afterAll(async () => {
    await expectInvariants(t, users);
    await t.close();
  });

  it('a model’s price now carries its rule’s volume as the rule answers it; a rule without steps null', async () => {
    const now = await t.http.get(`/api/pricing/${volume}`).set(admin).expect(200);
    expect(now.body).toMatchObject({ source: 'rule', volume: (await ruleOf(volume)).volume });
    expect(now.body.volume).toEqual({
      mode: 'volume',
      period: 'month',
      steps: [
        { upTo: 1000, pricePercent: '100.00' },
        { upTo: 3000, pricePercent: '50.00' },
        { upTo: null, pricePercent: '25.00' },
      ],
    });
    const plain = uniqueId('openai.novol');
    expect((await post('/api/pricing', { modelId: plain, pricePer1kTokens: '1' })).status).toBe(201);
    expect((await t.http.get(`/api/pricing/${plain}`).set(admin).expect(200)).body.volume).toBeNull();
  });

  it('refuses a table out of bounds with 400 and creates nothing', async () => {
    const bad = [
      { mode: 'tiered', period: 'month', steps: [{ upTo: null, pricePercent: 100 }] },
      { mode: 'volume', period: 'week', steps: [{ upTo: null, pricePercent: 100 }] },
      { mode: 'volume', period: 'month', steps: [] },
      { mode: 'volume', period: 'month', steps: [{ upTo: 10, pricePercent: 100 }] },
      {
        mode: 'volume',
        period: 'month',
        steps: [
          { upTo: 10, pricePercent: 100 },
          { upTo: 10, pricePercent: 90 },
          { upTo: null, pricePercent: 80 },
        ],
      },
      {
        mode: 'volume',
        period: 'month',
        steps: [
          { upTo: 10, pricePercent: 100 },
          { upTo: null, pricePercent: '1000.01' },
        ],
      },
      { mode: 'volume', period: 'month', steps: [{ upTo: null, pricePercent: '12.345' }] },
      { mode: 'volume', period: 'month', steps: [{ upTo: null, pricePercent: -1 }] },
      {
        mode: 'volume',
        period: 'month',
        steps: [
          ...Array.from({ length: 10 }, (_, i) => ({ upTo: i + 1, pricePercent: 100 })),
          { upTo: null, pricePercent: 1 },
        ],
      },
    ];
    for (const table of bad) {
      const modelId = uniqueId('bad');
      const res = await post('/api/pricing', { modelId, pricePer1kTokens: '1', volume: table });
      expect(res.status, JSON.stringify(table)).toBe(400);
      expect((await t.http.get(`/api/pricing/${modelId}/history`).set(admin)).body.items).toEqual([]);
    }
    const ten = Array.from({ length: 9 }, (_, i) => ({ upTo: (i + 1) * 10, pricePercent: '1000' }));
    const ok = await post('/api/pricing', {
      modelId: uniqueId('ok'),
      pricePer1kTokens: '1',
      volume: { mode: 'volume', period: 'plan', steps: [...ten, { upTo: null, pricePercent: 0 }] },
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
  });

  it('graduated: one token below, at and above a boundary; each record rounds on its own', async () => {
    const below = await f.newUser({ credits: 10_000 });
    expect(await record(below, graduated, 999)).toMatchObject({ credits: 999, volumeStep: 0 });
    const at = await f.newUser({ credits: 10_000 });
    expect(await record(at, graduated, 1000)).toMatchObject({ credits: 1000, volumeStep: 0 });
    const above = await f.newUser({ credits: 10_000 });
    // 1000 + 0.5 → 1001; each next token's 0.5 is a request of its own: 0.5 → 1, never 0.
    expect(await record(above, graduated, 1001)).toMatchObject({ credits: 1001, volumeStep: 1 });
    expect(await record(above, graduated, 1)).toMatchObject({ credits: 1, volumeStep: 1 });
    expect(await record(above, graduated, 1)).toMatchObject({ credits: 1, volumeStep: 1 });
    // The total crosses from the record before: 999 then 2 tokens (1 at 100 %, 1 at 50 %).
    const crossing = await f.newUser({ credits: 10_000 });
    await record(crossing, graduated, 999);
    expect(await record(crossing, graduated, 2)).toMatchObject({ credits: 2, volumeStep: 1 });
    expect(spent(await ledger(crossing.id))).toBe(1001); // 999 + ceil(1 + 0.5)
    // The record's view carries its step.
    const rec = await record(crossing, graduated, 2000);
    const list = await t.http.get(`/api/usage/records?userId=${crossing.id}`).set(admin);
    expect(list.status, JSON.stringify(list.body)).toBe(200);
    const views = list.body.items as { id: string; volumeStep: number | null }[];
    expect(views.map((v) => v.volumeStep)).toEqual([2, 1, 0]);
    expect(views[0].id).toBe(rec.id);
  });

  it('a record refused adds nothing to the total', async () => {
    const user = await f.newUser({ credits: 500 });
    const refused = await post('/api/usage/record', {
      userId: user.id,
      service: 'chat',
      operation: 'c',
      modelId: graduated,
      tokens: 999,
    });
    expect(refused.status, JSON.stringify(refused.body)).toBe(402);
    // 999 + 2 would cross into the 50 % step; from an empty total both tokens are at 100 %.
    expect(await record(user, graduated, 2)).toMatchObject({ credits: 2, volumeStep: 0 });
    const totals = await t.db.query(
      `SELECT tokens::int FROM credit_volume_totals WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)`,
      [user.id],
    );
    expect(totals.rows).toEqual([{ tokens: 2 }]);
  });

  it('graduated: a record spanning two and three steps is split at each boundary', async () => {
    const two = await f.newUser({ credits: 10_000 });
    await record(two, graduated, 500);
    // 501..1500: 500 at 100 % + 500 at 50 %
    expect(await record(two, graduated, 1000)).toMatchObject({ credits: 750, volumeStep: 1 });
    const three = await f.newUser({ credits: 10_000 });
    // 1..4000: 1000 + 2000 × 0.5 + 1000 × 0.25
    expect(await record(three, graduated, 4000)).toMatchObject({ credits: 2250, volumeStep: 2 });
    const edge = await f.newUser({ credits: 10_000 });
    // exactly to the second boundary (3000): 1000 + 1000; the next token is in the third step
    expect(await record(edge, graduated, 3000)).toMatchObject({ credits: 2000, volumeStep: 1 });
    expect(await record(edge, graduated, 4)).toMatchObject({ credits: 1, volumeStep: 2 });
  });

  it('tokens of every kind add to the total: a record of input and output tokens', async () => {
    const user = await f.newUser({ credits: 10_000 });
    // 1,200 tokens from 0: 1,000 at 100 % + 200 at 50 %
    expect(await record(user, graduated, 0, { tokens: undefined, inputTokens: 600, outputTokens: 600 })).toMatchObject({
      credits: 1100,
      volumeStep: 1,
    });
    const totals = await t.db.query(
      `SELECT tokens::int FROM credit_volume_totals WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)`,
      [user.id],
    );
    expect(totals.rows).toEqual([{ tokens: 1200 }]);
  });

  it('steps multiply with service tiers and account discounts', async () => {
    const user = await f.newUser({ credits: 10_000 });
    const price = await post('/api/pricing/accounts', {
      userId: user.id,
      modelId: graduated,
      discountPercent: 10,
      effectiveFrom: new Date().toISOString(),
    });
    expect(price.status, JSON.stringify(price.body)).toBe(201);
    // 2000 tokens at flex (50 %) less 10 %: 900 before the steps, 0.45 a token; 1000 × 0.45 + 1000 × 0.225
    expect(await record(user, graduated, 2000, { serviceTier: 'flex' })).toMatchObject({
      credits: 675,
      volumeStep: 1,
    });
  });

  it('volume: the step the total reaches prices the record; a cheaper step gives back exactly', async () => {
    const user = await f.newUser({ credits: 10_000 });
    expect(await record(user, volume, 999)).toMatchObject({ credits: 999, volumeStep: 0 });
    expect(await record(user, volume, 1)).toMatchObject({ credits: 1, volumeStep: 0 });
    // 1001 tokens at 50 %: 500.5 → 501; the records before paid 1000.5 of it → 500 back
    expect(await record(user, volume, 1)).toMatchObject({ credits: 1, volumeStep: 1 });
    let lines = await ledger(user.id);
    expect(spent(lines) - givenBack(lines)).toBe(501);
    const back = lines.filter((l) => l.kind === 'volume_adjustment');
    expect(back).toHaveLength(1);
    expect(back[0]).toMatchObject({ amount: 500, source: 'volume', category: 'corrected' });
    const now = new Date();
    const periodEnd = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
    expect(back[0].expires_at.getTime()).toBe(periodEnd + 30 * 86_400_000);
    // Within the step no give-back: 998 × 0.5 = 499, so 501 + 499 = 1000 net
    await record(user, volume, 998);
    lines = await ledger(user.id);
    expect(givenBack(lines)).toBe(500);
    expect(spent(lines) - givenBack(lines)).toBe(1000);
    // Spanning three steps at once from an empty period: every token at the last step, nothing back.
    const three = await f.newUser({ credits: 10_000 });
    expect(await record(three, volume, 4000)).toMatchObject({ credits: 1000, volumeStep: 2 });
    expect(givenBack(await ledger(three.id))).toBe(0);
    // From the second step into the third: 2000 → 3001 tokens, all at 25 % = 750.25 → 751 net
    const later = await f.newUser({ credits: 10_000 });
    await record(later, volume, 2000); // 1000
    await record(later, volume, 1001); // 1001 × 0.25 = 250.25 → 251, then back to 751
    lines = await ledger(later.id);
    expect(spent(lines) - givenBack(lines)).toBe(751);
  });

  it('calculate and a hold price at the step the total would reach', async () => {
    const user = await f.newUser({ credits: 10_000 });
    await record(user, graduated, 999);
    const calc = await post('/api/credits/calculate', { userId: user.id, modelId: graduated, tokens: 3 });
    expect(calc.status, JSON.stringify(calc.body)).toBe(200);
    // 1 token at 100 % + 2 at 50 %
    expect(calc.body).toMatchObject({ credits: 2, volumeStep: 1 });
    const plain = await post('/api/credits/calculate', { userId: user.id, modelId: volume, tokens: 3 });
    expect(plain.body).toMatchObject({ credits: 3, volumeStep: 0 });
    // a hold of 2,001 estimated tokens from 999: 1 + 2,000 × 0.5 = 1,001 (not 2,001)
    const before = await f.available(user.id);
    const init = await t.http
      .post('/api/streaming-sessions/initialize')
      .set(user.auth)
      .send({ sessionId: uniqueId('volhold'), modelId: graduated, estimatedTokens: 2001 });
    expect(init.status, JSON.stringify(init.body)).toBe(201);
    expect(init.body.estimatedCredits).toBe(1001);
    expect(before - (await f.available(user.id))).toBe(init.body.allocatedCredits);
  });

  it('a record on a rule without steps is priced as before, with no step', async () => {
    const plain = uniqueId('openai.plain');
    expect((await post('/api/pricing', { modelId: plain, pricePer1kTokens: '1000' })).status).toBe(201);
    const user = await f.newUser({ credits: 10_000 });
    expect(await record(user, plain, 1500)).toMatchObject({ credits: 1500, volumeStep: null });
    const rows = await t.db.query(
      `SELECT count(*)::int AS n FROM credit_volume_totals WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)`,
      [user.id],
    );
    expect(rows.rows[0].n).toBe(0);
  });

  it('a period turning over starts a new total: records count in the month they occurred', async () => {
    const user = await f.newUser({ credits: 10_000 });
    const now = new Date();
    const lastMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 15, 12)).toISOString();
    expect(await record(user, graduated, 999, { occurredAt: lastMonth })).toMatchObject({ credits: 999 });
    // this month's total starts at 0: 2 tokens at 100 %
    expect(await record(user, graduated, 2)).toMatchObject({ credits: 2, volumeStep: 0 });
    // last month's crosses its boundary: 1 at 100 % + 1 at 50 %
    expect(await record(user, graduated, 2, { occurredAt: lastMonth })).toMatchObject({ credits: 2, volumeStep: 1 });
    expect(await record(user, graduated, 1, { occurredAt: lastMonth })).toMatchObject({ credits: 1, volumeStep: 1 });
    const totals = await t.db.query(
      `SELECT tokens::int FROM credit_volume_totals
        WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) ORDER BY period_start`,
      [user.id],
    );
    expect(totals.rows.map((r) => r.tokens)).toEqual([1002, 2]);
  });

  it("period plan: the total runs over the account's plan period, and a month without a plan", async () => {
    const modelId = uniqueId('openai.planvol');
    const rule = await post('/api/pricing', {
      modelId,
      pricePer1kTokens: '1000',
      volume: { mode: 'graduated', period: 'plan', steps },
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    await t.db.query(`UPDATE pricing_rules SET effective_from = now() - interval '75 days' WHERE model_id = $1`, [
      modelId,
    ]);
    const planId = uniqueId('volplan').toLowerCase().slice(0, 50);
    expect((await post('/api/plans', { id: planId, name: planId, credits: 5000, period: 'day' })).status).toBe(201);
    const user = await f.newUser({ credits: 10_000 });
    // Before the plan: the UTC month (a day back, or the month's first instant on the 1st).
    const now = new Date();
    const earlier = new Date(
      Math.max(now.getTime() - 86_400_000, Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)),
    );
    expect(await record(user, modelId, 999, { occurredAt: earlier.toISOString() })).toMatchObject({ volumeStep: 0 });
    const sub = await t.http.put(`/api/users/${user.id}/subscription`).set(admin).send({ planId });
    expect(sub.status, JSON.stringify(sub.body)).toBe(200);
    // The plan's first day starts a total of its own: 2 tokens at 100 %, not across the month's 1,000.
    expect(await record(user, modelId, 999)).toMatchObject({ credits: 999, volumeStep: 0 });
    expect(await record(user, modelId, 2)).toMatchObject({ credits: 2, volumeStep: 1 });
    // The next plan period starts from 0 again.
    await passTime(t.db, user.id, 86_400_000 + 60_000);
    await t.app.get(SubscriptionRenewalJob).run();
    expect(await record(user, modelId, 1000)).toMatchObject({ credits: 1000, volumeStep: 0 });
    const totals = await t.db.query(
      `SELECT tokens::int FROM credit_volume_totals
        WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) ORDER BY period_start`,
      [user.id],
    );
    expect(totals.rows.map((r) => r.tokens).sort((a, b) => a - b)).toEqual([999, 1000, 1001]);
  });

  it('a batch crossing a boundary prices each event at its place in the total', async () => {
    const user = await f.newUser({ credits: 10_000 });
    const event = (n: number) => ({
      eventId: uniqueId('volbatch'),
      userId: user.id,
      service: 'chat',
      operation: 'c',
      modelId: graduated,
      tokens: n,
    });
    const res = await post('/api/usage/records/batch', { events: [event(999), event(3), event(2)] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    // 999; then 1 at 100 % + 2 at 50 % = 2; then 2 at 50 % = 1: each at its place, rounded on its own
    expect(
      (res.body.results as { credits: number }[]).map((r) => r.credits),
      JSON.stringify(res.body),
    ).toEqual([999, 2, 1]);
    expect(spent(await ledger(user.id))).toBe(1002);
  });

  it("an organisation's members add to one total", async () => {
    const [one, two] = [await f.newUser(), await f.newUser()];
    const orgId = uniqueId('volorg').toLowerCase();
    await t.db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'admin')`, [orgId]);
    for (const m of [one, two]) {
      await t.db.query(`INSERT INTO org_members (org_id, user_id, role) VALUES ($1, $2, 'member')`, [orgId, m.id]);
    }
    await t.db.query(
      `SELECT 1 FROM credits_grant((SELECT account_id FROM accounts WHERE org_id = $1), 10000, 'admin',
                                   now() + interval '30 days', NULL, 'manual', NULL, NULL, NULL, false)`,
      [orgId],
    );
    expect(await record(one, graduated, 800, { orgId })).toMatchObject({ credits: 800, volumeStep: 0 });
    // 801..1200: 200 at 100 % + 200 at 50 %
    expect(await record(two, graduated, 400, { orgId })).toMatchObject({ credits: 300, volumeStep: 1 });
  });
});
