import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

const admin = bearer(tokenFor('admin', 'volume-race-admin'));

/**
 * Volume steps under a race (docs/pricing.md "Volume steps", "Decided under the lock"): 200 records of
 * 7 tokens of one account at once, half on each of two instances, crossing the 1,000-token boundary
 * (1 credit a token up to 1,000, 50 % beyond). Each token is priced once, at its place in the total,
 * and each record rounded on its own: the period's credits are the records' rounded stepped prices,
 * to the credit.
 */
describe('volume steps: 200 parallel records on two instances', () => {
  let a: TestApp;
  let b: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const steps = [
    { upTo: 1000, pricePercent: 100 },
    { upTo: null, pricePercent: 50 },
  ];

  beforeAll(async () => {
    [a, b] = await Promise.all([startTestApp(), startTestApp()]);
    f = new Fixtures(a, { users, prefix: 'volrace' });
  });
  afterAll(async () => {
    await expectInvariants(a, users);
    await Promise.all([a?.close(), b?.close()]);
  });

  const race = async (mode: 'graduated' | 'volume') => {
    const modelId = uniqueId(`openai.race-${mode}`);
    const rule = await a.http
      .post('/api/pricing')
      .set(admin)
      .send({ modelId, pricePer1kTokens: '1000', volume: { mode, period: 'month', steps } });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    // both instances know the rule before the race
    for (const app of [a, b]) {
      const price = await app.http.get(`/api/pricing/${modelId}`).set(admin);
      expect(price.status).toBe(200);
    }
    // one valued lot: 5,000 credits for 2,500.00 usd, 50 minor units a credit
    const user = await f.newUser();
    const lot = await f.allocate(user.id, { credits: 5000, value: { amount: '2500.00', currency: 'usd' } });
    expect(lot.status, JSON.stringify(lot.body)).toBe(201);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        (i % 2 ? a : b).http
          .post('/api/usage/record')
          .set(admin)
          .send({ userId: user.id, service: 'chat', operation: 'c', modelId, tokens: 7 }),
      ),
    );
    expect(results.map((r) => r.status).filter((s) => s !== 201)).toEqual([]);
    const { rows } = await a.db.query(
      `SELECT COALESCE(-sum(amount) FILTER (WHERE kind = 'debit'), 0)::int AS debited,
              COALESCE(sum(amount) FILTER (WHERE kind = 'volume_adjustment'), 0)::int AS given_back,
              (SELECT sum(credits)::int FROM usage_records WHERE user_id = $1) AS recorded,
              (SELECT count(*)::int FROM usage_records WHERE user_id = $1 AND volume_step = 1) AS stepped,
              COALESCE(-sum(value_minor) FILTER (WHERE kind = 'debit'), 0)::int AS debited_money,
              COALESCE(sum(value_minor) FILTER (WHERE kind = 'volume_adjustment'), 0)::int AS money_back,
              (SELECT sum(value_remaining_minor)::int FROM credit_allocations a WHERE a.account_id = credit_ledger.account_id
                 AND a.currency = 'usd') AS liability
         FROM credit_ledger WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)
        GROUP BY account_id`,
      [user.id],
    );
    const totals = await a.db.query(
      `SELECT tokens::int, base::text, cost::text FROM credit_volume_totals
        WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)`,
      [user.id],
    );
    expect(totals.rows).toHaveLength(1);
    expect(totals.rows[0].tokens).toBe(1400);
    type Figures = { debited: number; given_back: number; recorded: number; stepped: number };
    return { ...(rows[0] as Figures & { debited_money: number; money_back: number; liability: number }) };
  };

  it('graduated: each record is charged its tokens at their steps, rounded once', async () => {
    const r = await race('graduated');
    // 142 × 7 at 100 %; the 143rd 6 + 1 × 0.5 = 6.5 → 7; the 57 after it 3.5 → 4 each
    expect(r.debited).toBe(994 + 7 + 57 * 4);
    expect(r.recorded).toBe(1229);
    expect(r.given_back).toBe(0);
    expect(r.debited_money).toBe(1229 * 50);
    expect(r.liability).toBe(250_000 - 1229 * 50);
    // the records after position 1,000 (from the 143rd: 142 × 7 = 994, the 143rd ends at 1,001)
    expect(r.stepped).toBe(58);
  });

  it('volume: the give-back brings the period to the rounded price of its total at the cheaper step', async () => {
    const r = await race('volume');
    // ceil(1,001 × 0.5) = 501 once the 143rd record crosses, then the 57 after it 3.5 → 4 each
    expect(r.debited - r.given_back).toBe(501 + 57 * 4);
    expect(r.recorded).toBe(r.debited);
    // the crossing record gives back once: the first 142 records paid 994, the crossing one 3.5 → 4
    expect(r.given_back).toBe(994 + 4 - 501);
    // and the money to the minor unit: the period's net credits took 729 × 50, the give-back carried
    // its 497 credits' 24,850 back into the liability
    expect(r.debited_money - r.money_back).toBe(729 * 50);
    expect(r.money_back).toBe(497 * 50);
    expect(r.liability).toBe(250_000 - 729 * 50);
  });
});
