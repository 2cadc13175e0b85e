import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RerateRunner } from '../src/rerates/rerate-runner.js';
import { startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser, principal } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * Re-rates through the real corrections engine (docs/pricing.md "Re-rating", docs/usage.md
 * "Corrections"): records metered over HTTP and priced by a rule in force, a re-rate of their range at
 * other prices, and then what the engine wrote: one correction `rerate:<rerateId>` per record that
 * differs, balances moved by exactly the deltas, records that named credits untouched, the re-rate's
 * counts, a simulation of the same body at `difference: 0`, its replay, and its completion event.
 */
describe('pricing re-rates through the corrections engine', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const admin = principal('admin', 'rerate-engine-admin');
  const model = uniqueId('rerate-engine');
  const from = new Date(Date.now() - 10 * 60_000).toISOString();
  const to = new Date(Date.now() + 10 * 60_000).toISOString();

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'rre', granter: admin.jwt });
    await t.http.get('/api/users/me').set(admin.auth).expect(200);
    await t.http.post('/api/pricing').set(admin.auth).send({ modelId: model, pricePer1kTokens: '10' }).expect(201);
  });
  afterAll(() => t?.close());

  async function meter(u: FixtureUser, body: Record<string, unknown>): Promise<string> {
    const res = await t.http
      .post('/api/usage/record')
      .set(admin.auth)
      .send({ userId: u.id, service: 'chat', operation: 'completion', modelId: model, ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  }

  const rerate = (u: FixtureUser, rerateId: string) => ({
    rerateId,
    from,
    to,
    userId: u.id,
    rules: [{ modelId: model, pricePer1kTokens: '4' }],
    reason: 'the rule had a typo',
  });

  it('corrects each differing record once, moves the balance by the deltas, then the simulation agrees', async () => {
    const u = await f.newUser({ credits: 1000 });
    // 10 and 20 credits by the rule of 10 per 1,000 tokens; at 4 they cost 4 and 8.
    const small = await Promise.all([1, 2, 3, 4, 5].map(() => meter(u, { tokens: 1000 })));
    const large = await Promise.all([1, 2, 3].map(() => meter(u, { tokens: 2000 })));
    // Named credits: left alone whatever the rules say.
    const named = await Promise.all([1, 2].map(() => meter(u, { credits: 7 })));
    // Corrected by hand to what the re-rate prices it at already: it no longer differs.
    const settled = await meter(u, { tokens: 1000 });
    const byHand = await t.http
      .post(`/api/usage/records/${settled}/corrections`)
      .set(admin.auth)
      .send({ correctionId: 'by-hand', reason: 'known early', credits: 4 });
    expect(byHand.status, JSON.stringify(byHand.body)).toBe(201);
    const before = await f.available(u.id);
    expect(before).toBe(1000 - 5 * 10 - 3 * 20 - 2 * 7 - 4);

    const rerateId = uniqueId('rre');
    const started = await t.http.post('/api/pricing/rerates').set(admin.auth).send(rerate(u, rerateId)).expect(202);
    await t.app.get(RerateRunner).settled();
    const done = await t.http.get(`/api/pricing/rerates/${started.body.id}`).set(admin.auth).expect(200);
    const delta = 5 * (4 - 10) + 3 * (8 - 20);
    expect(done.body).toMatchObject({ status: 'completed', records: 11, corrected: 8, delta, lastError: null });

    const { rows } = await t.db.query(
      `SELECT record_id, correction_id, previous_credits, credits, credits - previous_credits AS delta
         FROM usage_corrections WHERE record_id = ANY($1::uuid[]) AND correction_id = $2`,
      [[...small, ...large, ...named, settled], `rerate:${rerateId}`],
    );
    expect(rows).toHaveLength(8);
    expect(new Set(rows.map((r) => r.record_id))).toEqual(new Set([...small, ...large]));
    for (const r of rows) {
      expect(small.includes(r.record_id) ? [10, 4] : [20, 8]).toEqual([r.previous_credits, r.credits]);
    }
    const { rows: untouched } = await t.db.query(
      `SELECT count(*)::int AS n FROM usage_corrections WHERE record_id = ANY($1::uuid[]) AND correction_id <> 'by-hand'`,
      [[...named, settled]],
    );
    expect(untouched[0].n).toBe(0);
    // Each correction as one made alone: its event, and the ledger lines that name it.
    const { rows: corrected } = await t.db.query(
      `SELECT data FROM events WHERE type = 'usage.corrected' AND data->>'correctionId' = $1`,
      [`rerate:${rerateId}`],
    );
    expect(corrected.map((e) => e.data).sort((a, b) => a.recordId.localeCompare(b.recordId))).toEqual(
      [...small, ...large].sort().map((recordId) => ({
        userId: u.id,
        recordId,
        correctionId: `rerate:${rerateId}`,
        ...(small.includes(recordId) ? { delta: -6, credits: 4 } : { delta: -12, credits: 8 }),
      })),
    );
    const { rows: lines } = await t.db.query(
      `SELECT c.record_id, sum(l.amount)::int AS amount FROM usage_corrections c JOIN credit_ledger l ON l.correction_id = c.id
        WHERE c.correction_id = $1 GROUP BY c.record_id`,
      [`rerate:${rerateId}`],
    );
    expect(lines).toHaveLength(8);
    for (const l of lines) expect(l.amount).toBe(small.includes(l.record_id) ? 6 : 12);
    expect(await f.available(u.id)).toBe(before - delta);
    await expectInvariants(t, [u.id]);

    // The simulation of the same body now finds nothing to change.
    const sim = await t.http
      .post('/api/pricing/simulations')
      .set(admin.auth)
      .send({ from, to, userId: u.id, groupBy: 'model', rules: rerate(u, rerateId).rules })
      .expect(200);
    expect(sim.body).toMatchObject({ difference: 0 });

    // The same rerateId again: that re-rate, and nothing moves.
    const again = await t.http.post('/api/pricing/rerates').set(admin.auth).send(rerate(u, rerateId)).expect(200);
    expect(again.body).toMatchObject({ id: started.body.id, status: 'completed', corrected: 8, delta });
    await t.app.get(RerateRunner).settled();
    expect(await f.available(u.id)).toBe(before - delta);

    // Its completion is an event (and so a webhook) with its counts.
    const { rows: events } = await t.db.query(
      `SELECT data FROM events WHERE type = 'pricing.rerate.completed' AND data->>'id' = $1`,
      [started.body.id],
    );
    expect(events).toEqual([{ data: { id: started.body.id, rerateId, records: 11, corrected: 8, delta } }]);
  });

  it('re-prices service tiers and units exactly, a tier or unit the new rule lacks at its base or 0', async () => {
    const tiered = uniqueId('rerate-tiers');
    await t.http
      .post('/api/pricing')
      .set(admin.auth)
      .send({
        modelId: tiered,
        pricePer1kTokens: '10',
        serviceTiers: {
          flex: { pricePercent: '50' },
          priority: { pricePercent: '200' },
          batch: { pricePercent: '50' },
        },
        unitPrices: { web_search_call: '3', 'image.hd': '7' },
      })
      .expect(201);
    const u = await f.newUser({ credits: 1000 });
    const at = (body: Record<string, unknown>) => meter(u, { modelId: tiered, ...body });
    // (10 + 2 × 3) × 50 % = 8; 10 × 200 % = 20; 3.33 + 3 = 6.33 → 7; 10 × 50 % = 5; 10 + 7 = 17.
    const flex = await at({ tokens: 1000, serviceTier: 'flex', units: { web_search_call: 2 } });
    const priority = await at({ tokens: 1000, serviceTier: 'priority' });
    const edge = await at({ tokens: 333, units: { web_search_call: 1 } });
    const batch = await at({ tokens: 1000, serviceTier: 'batch' });
    const image = await at({ tokens: 1000, units: { 'image.hd': 1 } });
    const ids = [flex, priority, edge, batch, image];
    const { rows: billed } = await t.db.query(`SELECT id, credits FROM usage_records WHERE id = ANY($1::uuid[])`, [
      ids,
    ]);
    expect(Object.fromEntries(billed.map((r) => [r.id, r.credits]))).toEqual({
      [flex]: 8,
      [priority]: 20,
      [edge]: 7,
      [batch]: 5,
      [image]: 17,
    });
    const before = await f.available(u.id);

    // New prices: flex (4 + 2 × 5) × 25 % = 3.5 → 4; priority 4 × 300 % = 12; the edge 1.332 + 5 =
    // 6.332 → 7 (unchanged: no correction); batch, a tier the rule lacks, at the base 4; the image, a
    // unit it does not price, at 0 beside its tokens: 4.
    const rerateId = uniqueId('rrt');
    const started = await t.http
      .post('/api/pricing/rerates')
      .set(admin.auth)
      .send({
        rerateId,
        from,
        to,
        userId: u.id,
        rules: [
          {
            modelId: tiered,
            pricePer1kTokens: '4',
            serviceTiers: { flex: { pricePercent: '25' }, priority: { pricePercent: '300' } },
            unitPrices: { web_search_call: '5' },
          },
        ],
        reason: 'new tier and search prices',
      })
      .expect(202);
    await t.app.get(RerateRunner).settled();
    const delta = 4 - 8 + (12 - 20) + (4 - 5) + (4 - 17);
    const done = await t.http.get(`/api/pricing/rerates/${started.body.id}`).set(admin.auth).expect(200);
    expect(done.body).toMatchObject({ status: 'completed', records: 5, corrected: 4, delta, lastError: null });
    const { rows } = await t.db.query(
      `SELECT record_id, previous_credits, credits FROM usage_corrections WHERE correction_id = $1`,
      [`rerate:${rerateId}`],
    );
    expect(Object.fromEntries(rows.map((r) => [r.record_id, [r.previous_credits, r.credits]]))).toEqual({
      [flex]: [8, 4],
      [priority]: [20, 12],
      [batch]: [5, 4],
      [image]: [17, 4],
    });
    expect(await f.available(u.id)).toBe(before - delta);
    await expectInvariants(t, [u.id]);
  });
});
