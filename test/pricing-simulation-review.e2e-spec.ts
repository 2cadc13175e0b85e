import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

const admin = bearer(tokenFor('admin', 'sim-review-admin'));

/**
 * A simulation prices a settlement under review from its counts (docs/pricing.md "Simulations"):
 * 1,000 input and 1,000 output tokens at 10 and 30 per 1,000 cost 40 credits; an account of 15 pays
 * 15 and the 25 it lacks wait for review. The record's actual credits are its price (40), the rules
 * in force differ by 0, other rules price all of its tokens, and a collected review changes nothing.
 */
describe('pricing simulations: records under review', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const model = uniqueId('sim-review');
  const from = new Date(Date.now() - 60_000).toISOString();
  const simulate = (u: FixtureUser, prices: Record<string, string>) =>
    t.http
      .post('/api/pricing/simulations')
      .set(admin)
      .send({
        from,
        to: new Date(Date.now() + 60_000).toISOString(),
        userId: u.id,
        groupBy: 'model',
        rules: [{ modelId: model, ...prices }],
      })
      .expect(200);

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'simr' });
    await t.http
      .post('/api/pricing')
      .set(admin)
      .send({ modelId: model, pricePer1kTokens: '10', outputPricePer1kTokens: '30' })
      .expect(201);
  });
  afterAll(() => t?.close());

  /** A user of 15 credits whose session used 40: 15 taken, 25 under review. */
  async function shortSettlement() {
    const u = await f.newUser({ credits: 15 });
    const sessionId = uniqueId('s');
    const stream = (path: string, body: object) =>
      t.http
        .post(`/api/streaming-sessions/${path}`)
        .set(u.auth)
        .send({ sessionId, ...body });
    await stream('initialize', { modelId: model, estimatedTokens: 1000 }).expect(201);
    const settled = await stream('finalize', { inputTokens: 1000, outputTokens: 1000 }).expect(200);
    expect(settled.body).toMatchObject({ actualCredits: 40, shortfall: 25 });
    const { rows } = await t.db.query(
      `SELECT id, credits, shortfall, review_status FROM usage_records WHERE metadata->>'sessionId' = $1`,
      [sessionId],
    );
    expect(rows).toEqual([expect.objectContaining({ credits: 15, shortfall: 25, review_status: 'open' })]);
    return { u, recordId: rows[0].id as string };
  }

  it('prices an open review from its counts: 40 in force, 20 at half the price', async () => {
    const { u } = await shortSettlement();
    const inForce = await simulate(u, { pricePer1kTokens: '10', outputPricePer1kTokens: '30' });
    expect(inForce.body).toMatchObject({ records: 1, actualCredits: 40, simulatedCredits: 40, difference: 0 });
    const half = await simulate(u, { pricePer1kTokens: '5', outputPricePer1kTokens: '15' });
    expect(half.body).toMatchObject({ actualCredits: 40, simulatedCredits: 20, difference: -20 });
    const double = await simulate(u, { pricePer1kTokens: '20', outputPricePer1kTokens: '60' });
    expect(double.body).toMatchObject({ actualCredits: 40, simulatedCredits: 80, difference: 40 });
    await expectInvariants(t, [u.id]);
  });

  it('a written-off review and a collected one both still cost 40 under the rules in force', async () => {
    for (const action of ['write_off', 'collect']) {
      const { u, recordId } = await shortSettlement();
      await t.http.post(`/api/usage/records/${recordId}/resolve`).set(admin).send({ action }).expect(200);
      const inForce = await simulate(u, { pricePer1kTokens: '10', outputPricePer1kTokens: '30' });
      expect(inForce.body, action).toMatchObject({ actualCredits: 40, simulatedCredits: 40, difference: 0 });
      await expectInvariants(t, [u.id]);
    }
  });
});
