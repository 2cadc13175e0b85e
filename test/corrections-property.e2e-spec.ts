import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CreditExpiryJob } from '../src/plans/credit-expiry.job.js';
import { PricingService } from '../src/pricing/pricing.service.js';
import { RerateRunner } from '../src/rerates/rerate-runner.js';
import { startTestApp, type TestApp, uniqueId } from './support/app.js';
import { expireAllocationNow } from './support/clock.js';
import { Fixtures, type FixtureUser, principal } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * Corrections as a property (docs/usage.md "Corrections", docs/finance.md "Corrections in the
 * roll-forward"): generated sequences of usage records (named credits, or tokens priced by a rule,
 * some with `occurredAt` days back within LATE_USAGE_DAYS), corrections up and down, repeats of a
 * correction id (the same body: its first answer; another: 422), lots valued in usd and in jpy (and
 * promotional ones) expired (the rows set, the expiry job run or not) or voided before a correction,
 * reviews of corrections' shortfalls collected or written off, and re-rates over the range run to
 * completion (each: every record priced from counts at its price under the re-rate's rules, what was
 * written off since its last correction included, and the simulation of the same body at 0). After
 * each sequence: every lot's credits and money are its ledger lines' sums and never above its
 * original, no record got more back from a lot than it paid there, the account's balance is its live
 * lots' lines, each record's net (its view's) is the model's, the usage statistics and the daily
 * rollups count the nets (an open shortfall once collected), and the account's roll-forward of the
 * run closes exactly per currency with `corrected` inside `recognized`, each figure its lines', the
 * closing the lots' money left; then the invariants of docs/invariants.md.
 *
 * The seed is printed; replay with CORRECTIONS_PROPERTY_SEED=<seed> (CORRECTIONS_PROPERTY_RUNS=<n>).
 */
const SEED = Number(process.env.CORRECTIONS_PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = Number(process.env.CORRECTIONS_PROPERTY_RUNS ?? 50);
const DAY = 86_400_000;
const CURRENCIES = { usd: 2, jpy: 0 } as const;
type Currency = keyof typeof CURRENCIES;

/** A decimal string of the roll-forward in the currency's minor units, exactly. */
function minor(amount: string, currency: Currency): number {
  const digits = CURRENCIES[currency];
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(amount);
  expect(match, `${amount} is a decimal of ${currency}`).not.toBeNull();
  const [, sign, whole, fraction = ''] = match!;
  expect(fraction.length).toBe(digits);
  return (sign === '-' ? -1 : 1) * Number(whole + fraction);
}

const amountOf = (value: number, currency: Currency) =>
  CURRENCIES[currency] === 0 ? String(value) : (value / 10 ** CURRENCIES[currency]).toFixed(CURRENCIES[currency]);

const lot = fc.record({
  credits: fc.integer({ min: 1, max: 40 }),
  currency: fc.constantFrom<Currency | null>('usd', 'jpy', null),
  value: fc.integer({ min: 1, max: 5000 }),
  expiryDays: fc.integer({ min: 1, max: 60 }),
});

const op = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('record' as const),
      // named credits, or tokens priced by the model's rule (10 credits per 1,000)
      credits: fc.option(fc.integer({ min: 0, max: 15 }), { nil: undefined }),
      tokens: fc.integer({ min: 1, max: 20 }).map((n) => n * 100),
      daysAgo: fc.constantFrom(0, 0, 1, 3, 12, 25),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('correct' as const),
      record: fc.nat(),
      credits: fc.integer({ min: 0, max: 30 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('repeat' as const), correction: fc.nat(), same: fc.boolean() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('expire' as const), lot: fc.nat(), job: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('void' as const), lot: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('rerate' as const), price: fc.integer({ min: 1, max: 20 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('resolve' as const),
      record: fc.nat(),
      action: fc.constantFrom('collect', 'write_off'),
    }),
  },
);

const scenario = fc.record({
  overdraft: fc.constantFrom(0, 0, 5, 20),
  lots: fc.array(lot, { minLength: 1, maxLength: 4 }),
  ops: fc.array(op, { minLength: 1, maxLength: 16 }),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer S> ? S : never;

/** Sequences run before the generated ones: each once found a defect. */
const EXAMPLES: [Scenario][] = [
  // A correction's shortfall collected, then re-rated: the record's price counted the collected
  // credits twice (in its credits and in the correction's delta), so the re-rate left it short.
  // Then a write-off, and a review collected and opened again by a later correction.
  [
    {
      overdraft: 0,
      lots: [{ credits: 10, currency: 'usd', value: 100, expiryDays: 30 }],
      ops: [
        { kind: 'record', credits: undefined, tokens: 1000, daysAgo: 3 },
        { kind: 'correct', record: 0, credits: 15 },
        { kind: 'resolve', record: 0, action: 'collect' },
        { kind: 'rerate', price: 20 },
      ],
    },
  ],
  [
    {
      overdraft: 0,
      lots: [{ credits: 10, currency: 'jpy', value: 900, expiryDays: 30 }],
      ops: [
        { kind: 'record', credits: undefined, tokens: 1000, daysAgo: 3 },
        { kind: 'correct', record: 0, credits: 15 },
        { kind: 'resolve', record: 0, action: 'write_off' },
        { kind: 'rerate', price: 15 },
        // a correction names the record's cost again: what was written off no longer counts
        { kind: 'rerate', price: 8 },
      ],
    },
  ],
  [
    {
      overdraft: 5,
      lots: [{ credits: 10, currency: 'usd', value: 250, expiryDays: 30 }],
      ops: [
        { kind: 'record', credits: undefined, tokens: 1000, daysAgo: 12 },
        { kind: 'correct', record: 0, credits: 15 },
        { kind: 'resolve', record: 0, action: 'collect' },
        { kind: 'correct', record: 0, credits: 20 },
        { kind: 'rerate', price: 20 },
        { kind: 'resolve', record: 0, action: 'write_off' },
        { kind: 'rerate', price: 9 },
      ],
    },
  ],
];

describe('corrections property', () => {
  let t: TestApp;
  let f: Fixtures;
  const admin = principal('admin', 'corrprop-admin');
  const model = uniqueId('corrprop');

  beforeAll(async () => {
    t = await startTestApp({ LATE_USAGE_DAYS: '30' });
    f = new Fixtures(t, { prefix: 'corrprop', granter: admin.jwt });
    await t.http.get('/api/users/me').set(admin.auth).expect(200);
    // A rule in force since before the late records' range (POST /api/pricing refuses a past start).
    await t.db.query(
      `INSERT INTO pricing_rules (model_id, price_per_1k_tokens, output_price_per_1k_tokens, effective_from, created_by)
       VALUES ($1, 10, 10, now() - interval '60 days', 'test')`,
      [model],
    );
    t.app.get(PricingService).invalidate();
  });
  afterAll(() => t?.close());

  interface Correction {
    recordId: string;
    correctionId: string;
    credits: number;
    answer: Record<string, unknown>;
  }

  /** The account's allocations as ledger lines and lot rows see them, each off one listed. */
  async function lotsOff(userId: string) {
    const { rows } = await t.db.query(
      `SELECT a.id, a.source, a.currency, a.total_credits, a.remaining_credits, a.value_minor::bigint::text AS value_minor,
              a.value_remaining_minor::bigint::text AS value_remaining_minor,
              COALESCE(sum(l.amount), 0)::bigint::text AS credits, sum(l.value_minor)::bigint::text AS money
         FROM credit_allocations a LEFT JOIN credit_ledger l ON l.allocation_id = a.id
        WHERE a.account_id = (SELECT account_id FROM accounts WHERE user_id = $1)
        GROUP BY a.id
       HAVING a.remaining_credits <> COALESCE(sum(l.amount), 0)
           OR a.remaining_credits < 0 OR a.remaining_credits > a.total_credits
           OR (a.value_minor IS NULL) <> (a.value_remaining_minor IS NULL)
           OR (a.value_minor IS NOT NULL AND (a.value_remaining_minor IS DISTINCT FROM sum(l.value_minor)
                                              OR a.value_remaining_minor < 0 OR a.value_remaining_minor > a.value_minor))`,
      [userId],
    );
    return rows;
  }

  /**
   * A re-rate of the run's range at `price` for the model, polled to completion; `nets` is the model
   * of each record's net credits, `priced` the tokens of the records priced from counts.
   */
  async function rerate(
    u: FixtureUser,
    price: number,
    corrections: Map<string, number>,
    priced: Map<string, number>,
    writtenOff: Map<string, number>,
  ) {
    const body = {
      rerateId: uniqueId('cp'),
      from: new Date(Date.now() - 28 * DAY).toISOString(),
      to: new Date(Date.now() + 60_000).toISOString(),
      userId: u.id,
      rules: [{ modelId: model, pricePer1kTokens: String(price) }],
      reason: 'property re-rate',
    };
    const started = await t.http.post('/api/pricing/rerates').set(admin.auth).send(body);
    expect(started.status, JSON.stringify([started.body, body])).toBe(202);
    const runner = t.app.get(RerateRunner);
    // polled until it is no longer running: the runner has nothing under way once it has ended here
    let done: Record<string, unknown> = { status: 'running' };
    for (let polls = 0; polls < 50 && done.status === 'running'; polls++) {
      await runner.settled();
      done = (await t.http.get(`/api/pricing/rerates/${started.body.id}`).set(admin.auth).expect(200)).body;
    }
    expect(done).toMatchObject({ status: 'completed', lastError: null });
    const { rows } = await t.db.query(
      `SELECT record_id, previous_credits, credits FROM usage_corrections WHERE correction_id = $1`,
      [`rerate:${body.rerateId}`],
    );
    expect(done.corrected).toBe(rows.filter((r) => r.credits !== r.previous_credits).length);
    expect(done.delta).toBe(rows.reduce((s, r) => s + r.credits - r.previous_credits, 0));
    for (const r of rows) {
      // each against the net the record had: the model's
      expect(r.previous_credits).toBe(corrections.get(r.record_id));
      corrections.set(r.record_id, r.credits);
      writtenOff.delete(r.record_id);
    }
    // every record priced from its counts now costs its counts at the price, ceil(tokens × price / 1000):
    // its net and what was written off of it since its last correction
    for (const [recordId, tokens] of priced) {
      expect(
        corrections.get(recordId)! + (writtenOff.get(recordId) ?? 0),
        `record ${recordId} of ${tokens} tokens at ${price}`,
      ).toBe(Math.ceil((tokens * price) / 1000));
    }
    // afterwards the simulation of the same body finds nothing to change
    const { rerateId: _, reason: __, ...simulation } = body;
    const sim = await t.http
      .post('/api/pricing/simulations')
      .set(admin.auth)
      .send({ ...simulation, groupBy: 'model' });
    expect(sim.status, JSON.stringify(sim.body)).toBe(200);
    expect(sim.body.difference).toBe(0);
  }

  async function rollforward(u: FixtureUser, currency: Currency, from: string, to: string) {
    let cursor: string | undefined;
    for (;;) {
      const res = await t.http
        .get('/api/finance/rollforward')
        .query({ currency, from, to, groupBy: 'account', limit: 1000, ...(cursor ? { cursor } : {}) })
        .set(admin.auth);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const mine = res.body.accounts.find((a: { userId: string }) => a.userId === u.id);
      if (mine) return mine.totals as Record<string, string>;
      cursor = res.body.nextCursor ?? undefined;
      if (!cursor) return undefined;
    }
  }

  it(
    `keeps lots, balances and the roll-forward exact over ${RUNS} generated runs (seed ${SEED})`,
    async () => {
      console.log(`corrections property: seed ${SEED}, ${RUNS} runs (replay: CORRECTIONS_PROPERTY_SEED=${SEED})`);
      const from = new Date(Date.now() - DAY).toISOString().slice(0, 10);
      const to = new Date(Date.now() + 2 * DAY).toISOString().slice(0, 10);
      await fc.assert(
        fc.asyncProperty(scenario, async (s) => {
          const u = await f.newUser();
          if (s.overdraft > 0)
            await t.http
              .put(`/api/credits/limits/${u.id}`)
              .set(admin.auth)
              .send({ overdraftLimit: s.overdraft })
              .expect(200);
          const lots: string[] = [];
          for (const l of s.lots) {
            const res = await f.allocate(u.id, {
              credits: l.credits,
              expiryDays: l.expiryDays,
              ...(l.currency ? { value: { amount: amountOf(l.value, l.currency), currency: l.currency } } : {}),
            });
            expect(res.status, JSON.stringify(res.body)).toBe(201);
            lots.push(res.body.id);
          }
          const records: string[] = [];
          /** Each record's net credits, as the model has them. */
          const nets = new Map<string, number>();
          const corrections: Correction[] = [];
          /** The tokens of the records priced from counts (named credits are never re-rated). */
          const priced = new Map<string, number>();
          /** What a write-off forgave of a record since its last correction: still in its price. */
          const writtenOff = new Map<string, number>();
          for (const o of s.ops) {
            if (o.kind === 'record' || (o.kind === 'correct' && records.length === 0)) {
              const r = o.kind === 'record' ? o : { credits: o.credits, tokens: 1000, daysAgo: 0 };
              const res = await t.http
                .post('/api/usage/record')
                .set(admin.auth)
                .send({
                  userId: u.id,
                  service: 'chat',
                  operation: 'completion',
                  ...(r.credits !== undefined ? { credits: r.credits } : { modelId: model, tokens: r.tokens }),
                  ...(r.daysAgo > 0 ? { occurredAt: new Date(Date.now() - r.daysAgo * DAY).toISOString() } : {}),
                });
              expect([201, 402], JSON.stringify(res.body)).toContain(res.status);
              if (res.status === 201) {
                records.push(res.body.id);
                nets.set(res.body.id, res.body.credits);
                if (r.credits === undefined) priced.set(res.body.id, r.tokens);
              }
            } else if (o.kind === 'correct') {
              const recordId = records[o.record % records.length];
              const correctionId = uniqueId('c');
              const res = await t.http
                .post(`/api/usage/records/${recordId}/corrections`)
                .set(admin.auth)
                .send({ correctionId, reason: 'property', credits: o.credits });
              expect(res.status, JSON.stringify(res.body)).toBe(201);
              const previous = nets.get(recordId)!;
              expect(res.body).toMatchObject({
                previousCredits: previous,
                credits: o.credits,
                delta: o.credits - previous,
              });
              nets.set(recordId, o.credits);
              writtenOff.delete(recordId);
              corrections.push({ recordId, correctionId, credits: o.credits, answer: res.body });
            } else if (o.kind === 'repeat') {
              if (corrections.length === 0) continue;
              const c = corrections[o.correction % corrections.length];
              const credits = o.same ? c.credits : c.credits + 1;
              const lines = async () =>
                (
                  await t.db.query(
                    `SELECT count(*)::int AS n FROM credit_ledger WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)`,
                    [u.id],
                  )
                ).rows[0].n as number;
              const before = await lines();
              const res = await t.http
                .post(`/api/usage/records/${c.recordId}/corrections`)
                .set(admin.auth)
                .send({ correctionId: c.correctionId, reason: 'property', credits });
              if (o.same) {
                expect(res.status, JSON.stringify(res.body)).toBe(200);
                expect(res.body).toEqual(c.answer);
              } else {
                expect(res.status, JSON.stringify(res.body)).toBe(422);
                expect(res.body.code).toBe('CORRECTION_ID_REUSED');
              }
              expect(await lines()).toBe(before);
            } else if (o.kind === 'expire') {
              await expireAllocationNow(t.db, lots[o.lot % lots.length]);
              // the job as its schedule would run it, or not yet: a correction meets both
              if (o.job) await t.app.get(CreditExpiryJob).expireDue();
            } else if (o.kind === 'void') {
              const res = await t.http
                .post(`/api/credits/allocations/${lots[o.lot % lots.length]}/void`)
                .set(admin.auth)
                .send({ reason: 'property' });
              expect(res.status, JSON.stringify(res.body)).toBe(200);
            } else if (o.kind === 'resolve') {
              if (records.length === 0) continue;
              const recordId = records[o.record % records.length];
              const { rows } = await t.db.query(
                `SELECT review_status = 'open' AS open, usage_record_open_shortfall(id) AS shortfall
                   FROM usage_records WHERE id = $1`,
                [recordId],
              );
              const res = await t.http
                .post(`/api/usage/records/${recordId}/resolve`)
                .set(admin.auth)
                .send({ action: o.action });
              if (!rows[0].open) {
                expect(res.status, JSON.stringify(res.body)).toBe(409);
                continue;
              }
              expect(res.status, JSON.stringify(res.body)).toBe(200);
              // written off, the open shortfall leaves the record's net; collected, it is taken now
              if (o.action === 'write_off') {
                nets.set(recordId, nets.get(recordId)! - rows[0].shortfall);
                writtenOff.set(recordId, rows[0].shortfall);
              }
            } else {
              await rerate(u, o.price, nets, priced, writtenOff);
            }
          }

          // Every lot: its credits and money are its lines' sums, never below 0 nor above its original.
          expect(await lotsOff(u.id)).toEqual([]);

          // A record never gets more back from a lot than it paid there, in credits or in money.
          const { rows: overpaid } = await t.db.query(
            `SELECT usage_record_id, allocation_id, sum(amount)::int AS credits, sum(value_minor)::int AS money
             FROM credit_ledger
            WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) AND kind IN ('debit', 'correction')
            GROUP BY usage_record_id, allocation_id
           HAVING sum(amount) > 0 OR sum(value_minor) > 0`,
            [u.id],
          );
          expect(overpaid).toEqual([]);

          // The balance the account can spend is its live lots' lines.
          const balance = await t.http.get('/api/credits/balance').set(u.auth).expect(200);
          const { rows: live } = await t.db.query(
            `SELECT COALESCE(sum(l.amount), 0)::int AS n FROM credit_ledger l JOIN credit_allocations a ON a.id = l.allocation_id
            WHERE a.account_id = (SELECT account_id FROM accounts WHERE user_id = $1) AND a.expires_at > now() AND a.voided_at IS NULL`,
            [u.id],
          );
          expect(balance.body.totalCredits).toBe(live[0].n);

          // Each record's net is the last correction's credits (or its own), as its view says.
          const listed = await t.http.get('/api/usage/records').query({ limit: 100 }).set(u.auth).expect(200);
          const viewed = listed.body.items as { id: string; netCredits: number }[];
          expect(Object.fromEntries(viewed.map((r) => [r.id, r.netCredits]))).toEqual(Object.fromEntries(nets));
          // The usage statistics count each record's net, the shortfall its review has open once collected.
          const { rows: open } = await t.db.query(
            `SELECT COALESCE(sum(usage_record_open_shortfall(id)) FILTER (WHERE review_status = 'open'), 0)::int AS n
               FROM usage_records WHERE user_id = $1`,
            [u.id],
          );
          const stats = await t.http.get('/api/usage/stats').set(u.auth).expect(200);
          expect(stats.body.totalCredits).toBe([...nets.values()].reduce((a, b) => a + b, 0) - open[0].n);
          // and so do the system's daily rollups, through their deltas
          const { rows: rolled } = await t.db.query(
            `SELECT (SELECT COALESCE(sum(credits), 0) FROM usage_daily_users WHERE user_id = $1)
                  + (SELECT COALESCE(sum(credits), 0) FROM usage_rollup_pending WHERE user_id = $1) AS n`,
            [u.id],
          );
          expect(Number(rolled[0].n)).toBe(stats.body.totalCredits);

          // The roll-forward of the run closes exactly per currency, `corrected` inside `recognized`.
          for (const currency of Object.keys(CURRENCIES) as Currency[]) {
            const { rows: sums } = await t.db.query(
              `SELECT COALESCE(sum(value_minor) FILTER (WHERE category IN ('purchased')), 0)::int AS purchased,
                    COALESCE(sum(value_minor) FILTER (WHERE category IN ('sold')), 0)::int AS sold,
                    COALESCE(-sum(value_minor) FILTER (WHERE category IN ('recognized', 'corrected')), 0)::int AS recognized,
                    COALESCE(-sum(value_minor) FILTER (WHERE category = 'corrected'), 0)::int AS corrected,
                    COALESCE(-sum(value_minor) FILTER (WHERE category = 'expired'), 0)::int AS expired,
                    COALESCE(-sum(value_minor) FILTER (WHERE category = 'voided'), 0)::int AS voided,
                    count(*)::int AS lines
               FROM credit_ledger WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) AND currency = $2`,
              [u.id, currency],
            );
            const p = await rollforward(u, currency, from, to);
            // an account is listed with a movement in the range, valued or promotional (then all zeros here)
            if (sums[0].lines > 0) expect(p, `${currency} roll-forward lists the account`).toBeDefined();
            if (p === undefined) continue;
            const m = (k: string) => minor(p![k], currency);
            expect(m('opening')).toBe(0);
            expect(
              m('opening') +
                m('purchased') +
                m('sold') +
                m('transferredIn') -
                m('recognized') -
                m('expired') -
                m('refunded') -
                m('chargedBack') -
                m('voided') -
                m('transferredOut'),
            ).toBe(m('closing'));
            expect({
              purchased: m('purchased'),
              sold: m('sold'),
              recognized: m('recognized'),
              corrected: m('corrected'),
              expired: m('expired'),
              voided: m('voided'),
            }).toEqual({
              purchased: sums[0].purchased,
              sold: sums[0].sold,
              recognized: sums[0].recognized,
              corrected: sums[0].corrected,
              expired: sums[0].expired,
              voided: sums[0].voided,
            });
            // the closing is the money the lots hold: expired lots until the job has taken theirs
            const { rows: left } = await t.db.query(
              `SELECT COALESCE(sum(value_remaining_minor), 0)::int AS n FROM credit_allocations
              WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) AND currency = $2 AND voided_at IS NULL
                AND (expires_at > now() OR NOT expiry_done)`,
              [u.id, currency],
            );
            expect(m('closing')).toBe(left[0].n);
          }

          await expectInvariants(t, [u.id]);
        }),
        { seed: SEED, numRuns: RUNS, examples: EXAMPLES },
      );
      const { rows: seen } = await t.db.query(
        `SELECT count(*) FILTER (WHERE a.source = 'correction')::int AS regranted,
              count(*) FILTER (WHERE a.source = 'correction' AND a.currency IS NOT NULL)::int AS regranted_valued
         FROM credit_allocations a JOIN user_accounts u ON a.account_id = (SELECT account_id FROM accounts WHERE user_id = u.user_id)
        WHERE u.user_id LIKE 'corrprop-%'`,
      );
      console.log(`corrections property: lots made for dead lots' credits ${JSON.stringify(seen[0])}`);
    },
    30_000 + RUNS * 2_000,
  );
});
