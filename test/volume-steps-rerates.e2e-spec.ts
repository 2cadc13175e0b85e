import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RerateRunner } from '../src/rerates/rerate-runner.js';
import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

const admin = bearer(tokenFor('admin', 'volume-rerate-admin'));

/**
 * Simulations and re-rates at volume steps (docs/pricing.md "Simulations" and "Re-rating"), with the
 * figures of the section "Volume steps": 1 credit a token (1000 per 1,000), steps up to 1,000 tokens at
 * 100 %, up to 3,000 at 50 %, beyond at 25 %. `flat` is priced by a rule without steps, `stepped` by
 * one with them in `volume` mode; each case is a fresh account, so its month holds only its records.
 */
describe('simulations and re-rates at volume steps', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const flat = uniqueId('openai.flat');
  const stepped = uniqueId('openai.stepped');
  const graduated = uniqueId('openai.graduated');
  const steps = [
    { upTo: 1000, pricePercent: 100 },
    { upTo: 3000, pricePercent: 50 },
    { upTo: null, pricePercent: 25 },
  ];
  const rule = (modelId: string, mode?: 'graduated' | 'volume') => ({
    modelId,
    pricePer1kTokens: '1000',
    ...(mode ? { volume: { mode, period: 'month', steps } } : {}),
  });
  const from = new Date(Date.now() - 10 * 60_000).toISOString();
  const to = new Date(Date.now() + 10 * 60_000).toISOString();
  const post = (path: string, body: object) => t.http.post(path).set(admin).send(body);
  /** A graduated rule whose credits fall between integers: kinds at other prices and a tier. */
  const livelyRule = {
    modelId: graduated,
    pricePer1kTokens: '700',
    outputPricePer1kTokens: '1300',
    serviceTiers: { flex: { pricePercent: 50 } },
    volume: { mode: 'graduated', period: 'month', steps },
  };

  /** One record after the other (their order by occurredAt is the order they are written in). */
  async function meter(user: FixtureUser, model: string, tokens: number[], extra: object = {}): Promise<string[]> {
    const ids: string[] = [];
    for (const n of tokens) {
      const res = await post('/api/usage/record', {
        userId: user.id,
        service: 'chat',
        operation: 'c',
        modelId: model,
        tokens: n,
        ...extra,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      ids.push(res.body.id as string);
    }
    return ids;
  }

  async function simulate(user: FixtureUser, rules: object[], range = { from, to }) {
    const res = await post('/api/pricing/simulations', { ...range, userId: user.id, groupBy: 'model', rules });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as { records: number; actualCredits: number; simulatedCredits: number; difference: number };
  }

  async function rerate(user: FixtureUser, rules: object[]) {
    const rerateId = uniqueId('vr');
    const started = await post('/api/pricing/rerates', { rerateId, from, to, userId: user.id, rules, reason: 'steps' });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    await t.app.get(RerateRunner).settled();
    const done = await t.http.get(`/api/pricing/rerates/${started.body.id}`).set(admin).expect(200);
    expect(done.body).toMatchObject({ status: 'completed', lastError: null });
    return { rerateId, ...(done.body as { records: number; corrected: number; delta: number }) };
  }

  /** Each record's net credits (its credits moved by its corrections), in the order given. */
  async function nets(ids: string[]): Promise<number[]> {
    const { rows } = await t.db.query(
      `SELECT u.id, u.credits + COALESCE((SELECT sum(c.credits - c.previous_credits) FROM usage_corrections c
                                           WHERE c.record_id = u.id), 0)::int AS net
         FROM usage_records u WHERE u.id = ANY($1::uuid[])`,
      [ids],
    );
    const byId = new Map(rows.map((r) => [r.id as string, Number(r.net)]));
    return ids.map((id) => byId.get(id)!);
  }

  /** What the volume steps gave back to the account (its `volume_adjustment` lines). */
  async function givenBack(user: FixtureUser): Promise<number> {
    const { rows } = await t.db.query(
      `SELECT COALESCE(sum(amount), 0)::int AS n FROM credit_ledger
        WHERE kind = 'volume_adjustment' AND account_id = (SELECT account_id FROM accounts WHERE user_id = $1)`,
      [user.id],
    );
    return rows[0].n as number;
  }

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'vrr' });
    for (const body of [rule(flat), rule(stepped, 'volume'), livelyRule]) {
      const res = await post('/api/pricing', body);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    // Late usage is priced by the rule in force when it occurred (set by SQL: the route refuses a past start).
    await t.db.query(
      `UPDATE pricing_rules SET effective_from = now() - interval '75 days' WHERE model_id IN ($1, $2, $3)`,
      [flat, stepped, graduated],
    );
  });
  afterAll(async () => {
    await expectInvariants(t, users);
    await t.close();
  });

  it('a simulation across boundaries: graduated splits records at them, volume prices the total at its step', async () => {
    // 1,001 + 1 + 1 + 2,000 tokens, charged 3,003 at the flat rule. Graduated, each record rounded on
    // its own: 1,000 × 1 + 1 × 0.5 = 1,000.5 → 1,001; 0.5 → 1; 0.5 → 1; then positions 1,004–3,000
    // (1,997 × 0.5) and 3,001–3,003 (3 × 0.25): 999.25 → 1,000. The month: 2,003.
    const u = await f.newUser({ credits: 10_000 });
    await meter(u, flat, [1001, 1, 1, 2000]);
    expect(await simulate(u, [rule(flat, 'graduated')])).toEqual(
      expect.objectContaining({ records: 4, actualCredits: 3003, simulatedCredits: 2003, difference: -1000 }),
    );
    // Volume: the total, 3,003 tokens, is in the 25 % step: 750.75 → 751.
    expect(await simulate(u, [rule(flat, 'volume')])).toMatchObject({ simulatedCredits: 751, difference: -2252 });

    // 999 + 1 + 1 tokens in volume mode: the total, 1,001, costs 1,001 × 0.5 = 500.5 → 501.
    const v = await f.newUser({ credits: 10_000 });
    await meter(v, flat, [999, 1, 1]);
    expect(await simulate(v, [rule(flat, 'volume')])).toMatchObject({
      actualCredits: 1001,
      simulatedCredits: 501,
      difference: -500,
    });
    expect(await simulate(v, [rule(flat, 'graduated')])).toMatchObject({ simulatedCredits: 1001, difference: 0 });
    await expectInvariants(t, [u.id, v.id]);
  });

  it("a simulation's total starts from the month's records before its range", async () => {
    const u = await f.newUser({ credits: 10_000 });
    // Last month, all of it past on any day (this month's first minute may be in the range around now,
    // or still to come): a record in its first minute, another two hours in, the range after the first.
    const month = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() - 1, 1);
    const at = (minutes: number) => new Date(month + minutes * 60_000).toISOString();
    await meter(u, flat, [1000], { occurredAt: at(1) });
    await meter(u, flat, [1000], { occurredAt: at(120) });
    const range = { from: at(60), to: at(180) };
    // Only the second record is in the range, at positions 1,001–2,000 of the month: 50 %.
    expect(await simulate(u, [rule(flat, 'graduated')], range)).toMatchObject({
      records: 1,
      actualCredits: 1000,
      simulatedCredits: 500,
    });
    // Volume: the month's 2,000 tokens at 50 % are 1,000, the first 500 of them the first record's.
    expect(await simulate(u, [rule(flat, 'volume')], range)).toMatchObject({ records: 1, simulatedCredits: 500 });
  });

  it('a re-rate moves a month from a flat rule onto graduated steps and back, record by record', async () => {
    const u = await f.newUser({ credits: 10_000 });
    const ids = await meter(u, flat, [1001, 1, 1, 2000]);
    const before = await f.available(u.id);
    expect(before).toBe(10_000 - 3003);

    // Onto the steps: 1,001, 1, 1 and 1,000 (the first and the last each span two steps).
    const onto = await rerate(u, [rule(flat, 'graduated')]);
    expect(onto).toMatchObject({ records: 4, corrected: 1, delta: -1000 });
    expect(await nets(ids)).toEqual([1001, 1, 1, 1000]);
    expect(await f.available(u.id)).toBe(before + 1000);
    expect(await simulate(u, [rule(flat, 'graduated')])).toMatchObject({ actualCredits: 2003, difference: 0 });
    await expectInvariants(t, [u.id]);

    // And back to the flat price.
    const back = await rerate(u, [rule(flat)]);
    expect(back).toMatchObject({ records: 4, corrected: 1, delta: 1000 });
    expect(await nets(ids)).toEqual([1001, 1, 1, 2000]);
    expect(await f.available(u.id)).toBe(before);
    expect(await simulate(u, [rule(flat)])).toMatchObject({ actualCredits: 3003, difference: 0 });
    await expectInvariants(t, [u.id]);
  });

  it("volume mode: a re-rate counts the steps' give-back, and the month's net is the total's price", async () => {
    const u = await f.newUser({ credits: 10_000 });
    // The take: 999, 1 and 1 charged, and 500 given back when the total reached the 50 % step.
    const ids = await meter(u, stepped, [999, 1, 1]);
    expect(await givenBack(u)).toBe(500);
    const before = await f.available(u.id);
    expect(before).toBe(10_000 - 501);
    // The records cost what the month paid: 1,001 charged less 500 given back.
    expect(await simulate(u, [rule(stepped, 'volume')])).toMatchObject({
      actualCredits: 501,
      simulatedCredits: 501,
      difference: 0,
    });

    // Off the steps: the month costs 1,001; the record that brought the give-back is set to its price
    // (1) plus the give-back (500), so the month's net is 999 + 1 + 501 − 500 = 1,001.
    const off = await rerate(u, [rule(stepped)]);
    expect(off).toMatchObject({ records: 3, corrected: 1, delta: 500 });
    expect(await nets(ids)).toEqual([999, 1, 501]);
    expect(await f.available(u.id)).toBe(before - 500);
    expect(await simulate(u, [rule(stepped)])).toMatchObject({ actualCredits: 1001, difference: 0 });
    await expectInvariants(t, [u.id]);

    // Onto the steps again: every record at the total's step (50 %): 499.5 → 500, 500.0 → 0, 500.5 → 1;
    // the month's net is 500 + 0 + 501 − 500 = 501, the volume price of its 1,001 tokens.
    const onto = await rerate(u, [rule(stepped, 'volume')]);
    expect(onto).toMatchObject({ records: 3, corrected: 2, delta: -500 });
    expect(await nets(ids)).toEqual([500, 0, 501]);
    expect(await f.available(u.id)).toBe(before);
    expect(await simulate(u, [rule(stepped, 'volume')])).toMatchObject({ actualCredits: 501, difference: 0 });
    await expectInvariants(t, [u.id]);
  });

  it('volume mode: past the last step each record rounds on its own, in the take and in a simulation', async () => {
    const u = await f.newUser({ credits: 10_000 });
    // The take: 999, 1, 1 (500 back: the month at 50 % is 501), then 1 and 1 at 0.5 → 1 each.
    const ids = await meter(u, stepped, [999, 1, 1, 1, 1]);
    expect(await nets(ids)).toEqual([999, 1, 1, 1, 1]);
    expect(await givenBack(u)).toBe(500);
    expect(await f.available(u.id)).toBe(10_000 - 503);
    // The simulation: 500, 0, 1 share ceil(1,001 × 0.5) = 501, then 1 and 1: the take's 503.
    expect(await simulate(u, [rule(stepped, 'volume')])).toMatchObject({
      actualCredits: 503,
      simulatedCredits: 503,
      difference: 0,
    });
    await expectInvariants(t, [u.id]);
  });

  it('with the rules in force, a graduated month the take priced differs by 0 and a re-rate corrects nothing', async () => {
    const u = await f.newUser({ credits: 100_000 });
    const price = await post('/api/pricing/accounts', {
      userId: u.id,
      modelId: graduated,
      discountPercent: '12.5',
      effectiveFrom: new Date().toISOString(),
    });
    expect(price.status, JSON.stringify(price.body)).toBe(201);
    // 30 records of seeded sizes across both boundaries, single counts and split ones, some at flex.
    let seed = 78;
    const next = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return 1 + (seed % n);
    };
    const charged: number[] = [];
    for (let i = 0; i < 30; i++) {
      const counts = i % 3 === 0 ? { inputTokens: next(300), outputTokens: next(200) } : { tokens: next(350) };
      const res = await post('/api/usage/record', {
        userId: u.id,
        service: 'chat',
        operation: 'c',
        modelId: graduated,
        ...counts,
        ...(i % 4 === 1 ? { serviceTier: 'flex' } : {}),
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      charged.push(res.body.credits as number);
    }
    const inForce = [livelyRule];
    const sim = await simulate(u, inForce);
    expect(sim.actualCredits).toBe(charged.reduce((a, b) => a + b, 0));
    expect(sim).toMatchObject({ records: 30, difference: 0 });
    expect(await rerate(u, inForce)).toMatchObject({ records: 30, corrected: 0, delta: 0 });
    await expectInvariants(t, [u.id]);
  });

  it("an organisation's members add to one total in a simulation and a re-rate", async () => {
    const [one, two] = [await f.newUser(), await f.newUser()];
    const orgId = uniqueId('vrorg').toLowerCase();
    await t.db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'admin')`, [orgId]);
    for (const m of [one, two]) {
      await t.db.query(`INSERT INTO org_members (org_id, user_id, role) VALUES ($1, $2, 'member')`, [orgId, m.id]);
    }
    await t.db.query(
      `SELECT 1 FROM credits_grant((SELECT account_id FROM accounts WHERE org_id = $1), 10000, 'admin',
                                   now() + interval '30 days', NULL, 'manual', NULL, NULL, NULL, false)`,
      [orgId],
    );
    const ids = [...(await meter(one, flat, [800], { orgId })), ...(await meter(two, flat, [400], { orgId }))];
    // 801..1,200 of the organisation's total: 200 at 100 % and 200 at 50 %.
    const rules = [rule(flat, 'graduated')];
    const sim = await post('/api/pricing/simulations', { from, to, orgId, groupBy: 'account', rules });
    expect(sim.status, JSON.stringify(sim.body)).toBe(200);
    expect(sim.body).toMatchObject({ records: 2, actualCredits: 1200, simulatedCredits: 1100, difference: -100 });
    const rerateId = uniqueId('vr');
    const started = await post('/api/pricing/rerates', { rerateId, from, to, orgId, rules, reason: 'steps' });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    await t.app.get(RerateRunner).settled();
    const done = await t.http.get(`/api/pricing/rerates/${started.body.id}`).set(admin).expect(200);
    expect(done.body).toMatchObject({ status: 'completed', records: 2, corrected: 1, delta: -100 });
    expect(await nets(ids)).toEqual([800, 300]);
    await expectInvariants(t, [one.id, two.id]);
  });
});
