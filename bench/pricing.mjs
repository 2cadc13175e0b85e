// Pricing by account in npm run bench (docs/pricing.md): a simulation over 1,000,000 records (target
// under 5 s), and the record route priced with an account price in force against the same route
// without one, in interleaved rounds (summed requests, as the webhook ratio is measured).

/** A bench model priced per kind with a long-context tier; users bench-1…bench-500 have 12.5 % off it. */
export const PRICED_MODEL = 'bench.priced-model';
const DISCOUNTED_USERS = 500;

async function post(base, authorization, path, body) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify(body),
  });
  const answer = await res.json();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(answer)}`);
  return answer;
}

/** The bench model's rule (through the API) and the account prices of the first 500 users (in SQL: many). */
export async function seedAccountPrices(service, db, adminAuthorization) {
  await post(service.base, adminAuthorization, '/api/pricing', {
    modelId: PRICED_MODEL,
    pricePer1kTokens: '3',
    outputPricePer1kTokens: '15',
    cacheReadPricePer1kTokens: '0.3',
    cacheWritePricePer1kTokens: '3.75',
    longContextThreshold: 200000,
    longContextPricePer1kTokens: '6',
    longContextOutputPricePer1kTokens: '22.5',
  });
  await db.query(
    `INSERT INTO account_prices (user_id, account_id, model_id, discount_percent, effective_from, created_by)
     SELECT a.user_id, a.account_id, 'bench.*', 12.5, now() - interval '1 minute', 'bench'
       FROM generate_series(1, $1) g JOIN accounts a ON a.user_id = 'bench-' || g`,
    [DISCOUNTED_USERS],
  );
}

/** Record bodies of the bench model for a user with (`discounted`) or without an account price. */
export function pricedRecord(discounted, users) {
  const pool = discounted ? DISCOUNTED_USERS : users - DISCOUNTED_USERS;
  const offset = discounted ? 0 : DISCOUNTED_USERS;
  return () => ({
    userId: `bench-${offset + 1 + Math.floor(Math.random() * pool)}`,
    service: 'chat',
    operation: 'completion',
    modelId: PRICED_MODEL,
    inputTokens: 1200,
    cacheReadTokens: 8000,
    outputTokens: 300,
  });
}

/**
 * `count` records over the last 30 days for the bench users, every token kind, a third of them with
 * the bench account price (written in SQL: a simulation reads records, it does not care how they came).
 */
export async function seedRecords(db, count, users) {
  const { rows } = await db.query(`SELECT id FROM pricing_rules WHERE model_id = $1`, [PRICED_MODEL]);
  const ruleId = rows[0].id;
  for (let start = 0; start < count; start += 250_000) {
    await db.query(
      `INSERT INTO usage_records (user_id, "timestamp", service, operation, credits, model_id, tokens, input_tokens,
                                  output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
                                  pricing_rule_id, account_price_id, account_id)
       SELECT 'bench-' || (1 + g % $3), now() - (g % 2592000) * interval '1 second', 'chat', 'completion', 1, $4,
              5000, 1000 + g % 997, g % 613, g % 4001, g % 59, g % 31, $5::uuid,
              CASE WHEN g % 3 = 0 AND 1 + g % $3 <= $6 THEN
                (SELECT ap.id FROM account_prices ap WHERE ap.user_id = 'bench-' || (1 + g % $3) LIMIT 1) END,
              (SELECT a.account_id FROM accounts a WHERE a.user_id = 'bench-' || (1 + g % $3))
         FROM generate_series($1::int, $2::int) g`,
      [start, Math.min(start + 250_000, count) - 1, users, PRICED_MODEL, ruleId, DISCOUNTED_USERS],
    );
  }
  await db.query('ANALYZE usage_records');
}

/**
 * POST /api/pricing/simulations over every seeded record, once: its time and its answer. `volume`
 * ("graduated" or "volume"): the simulated rule carries monthly volume steps in that mode.
 */
export async function simulate(service, adminAuthorization, volume) {
  const steps = [
    { upTo: 50_000_000, pricePercent: 100 },
    { upTo: 200_000_000, pricePercent: 80 },
    { upTo: null, pricePercent: 60 },
  ];
  const started = performance.now();
  const answer = await post(service.base, adminAuthorization, '/api/pricing/simulations', {
    from: new Date(Date.now() - 31 * 86_400_000).toISOString(),
    to: new Date(Date.now() + 60_000).toISOString(),
    rules: [
      {
        modelId: PRICED_MODEL,
        pricePer1kTokens: '2.5',
        outputPricePer1kTokens: '12',
        ...(volume ? { volume: { mode: volume, period: 'month', steps } } : {}),
      },
    ],
    groupBy: 'day',
  });
  return { seconds: (performance.now() - started) / 1000, records: answer.records, rows: answer.rows.length };
}
