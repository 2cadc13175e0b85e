import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RerateRunner } from '../src/rerates/rerate-runner.js';
import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

const admin = bearer(tokenFor('admin', 'volume-corrections-admin'));

/**
 * Downward corrections and re-rates of records on a `volume` rule (docs/pricing.md "Volume steps"):
 * what goes back leaves the period's total in the same transaction,
 * so a later step crossing never gives the same credits back a second time. 1 credit a token, steps
 * up to 1,000 tokens at 100 %, up to 3,000 at 50 %, beyond at 25 %; each case is a fresh account.
 */
describe('corrections of records on volume steps', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const model = uniqueId('openai.volcorr');
  const steps = [
    { upTo: 1000, pricePercent: 100 },
    { upTo: 3000, pricePercent: 50 },
    { upTo: null, pricePercent: 25 },
  ];
  const rule = { modelId: model, pricePer1kTokens: '1000', volume: { mode: 'volume', period: 'month', steps } };
  const post = (path: string, body: object) => t.http.post(path).set(admin).send(body);

  async function meter(user: FixtureUser, tokens: number): Promise<{ id: string; credits: number }> {
    const res = await post('/api/usage/record', {
      userId: user.id,
      service: 'chat',
      operation: 'c',
      modelId: model,
      tokens,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { id: string; credits: number };
  }

  async function correct(recordId: string, credits: number): Promise<void> {
    const res = await post(`/api/usage/records/${recordId}/corrections`, {
      correctionId: uniqueId('vc'),
      reason: 'overcounted',
      credits,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }

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
    f = new Fixtures(t, { users, prefix: 'vcr' });
    const res = await post('/api/pricing', rule);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  });
  afterAll(async () => {
    await expectInvariants(t, users);
    await t.close();
  });

  it('a record corrected to 0 leaves the total: the next record crosses no step and nothing comes back', async () => {
    const u = await f.newUser({ credits: 10_000 });
    const first = await meter(u, 999);
    expect(first.credits).toBe(999);
    await correct(first.id, 0);
    expect(await f.available(u.id)).toBe(10_000);
    // The month holds 2 tokens now, not 1,001: the second record is priced at 100 % and crosses nothing.
    const second = await meter(u, 2);
    expect(second.credits).toBe(2);
    expect(await givenBack(u)).toBe(0);
    expect(await f.available(u.id)).toBe(10_000 - 2);
    await expectInvariants(t, [u.id]);
  });

  it('a record corrected part-way leaves that part of the total: the net is what the corrected total costs', async () => {
    const u = await f.newUser({ credits: 10_000 });
    const first = await meter(u, 999);
    await correct(first.id, 500);
    // 499 of the 999 credits went back: so did 499 of its tokens (500 stay), and the month holds 502.
    const second = await meter(u, 2);
    expect(second.credits).toBe(2);
    expect(await givenBack(u)).toBe(0);
    expect(await f.available(u.id)).toBe(10_000 - 502);
    // Crossing into 50 % later gives back only what the net charges paid above it: 1,002 tokens.
    const third = await meter(u, 500);
    expect(third.credits).toBe(250);
    // charged 500 + 2 + 250 = 752, the total (1,002 tokens) costs 501 at 50 %: 251 come back.
    expect(await givenBack(u)).toBe(251);
    expect(await f.available(u.id)).toBe(10_000 - 501);
    await expectInvariants(t, [u.id]);
  });

  it('a re-rate that lowers the records lowers the total with them', async () => {
    const u = await f.newUser({ credits: 10_000 });
    const from = new Date(Date.now() - 10 * 60_000).toISOString();
    const to = new Date(Date.now() + 10 * 60_000).toISOString();
    await meter(u, 999);
    // Re-rated at half the price: 999 tokens cost 499.5 → 500, 499 go back with 499 of the tokens.
    const rerateId = uniqueId('vcr');
    const started = await post('/api/pricing/rerates', {
      rerateId,
      from,
      to,
      userId: u.id,
      rules: [{ ...rule, pricePer1kTokens: '500' }],
      reason: 'cheaper',
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    await t.app.get(RerateRunner).settled();
    const done = await t.http.get(`/api/pricing/rerates/${started.body.id}`).set(admin).expect(200);
    expect(done.body).toMatchObject({ status: 'completed', corrected: 1, delta: -499 });
    const second = await meter(u, 2);
    expect(second.credits).toBe(2);
    expect(await givenBack(u)).toBe(0);
    expect(await f.available(u.id)).toBe(10_000 - 502);
    await expectInvariants(t, [u.id]);
  });
});
