import { randomUUID } from 'node:crypto';

import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { namedStatements } from './support/named-statements.js';
import { type CaseAccount, caseAccounts, modelOf, setups } from './support/take-cases.js';
import { type ModelEvent, type ModelOutcome, type ModelTake, take } from './support/take-model.js';

/**
 * The one take (credits_take_events()) held to the model written in TypeScript
 * (test/support/take-model.ts): records (strict debits), holds (strict, at least one credit asked of
 * the caps, no overdraft), settlement overruns (up_to: never refused, balance then overdraft) and
 * collected shortfalls (collect: debt whatever the limit, outside the hourly window), in any order on
 * one account with every limit pushed (key budgets, member limits, hourly windows, overdraft and debt),
 * with the balance alerts and the auto-recharge request they send. Each case runs twice: one take per
 * call (a batch of one, as a record, a hold or a settlement sends it) on one account, and all of them
 * in ONE call on another account with the same setup; both must match the model event by event and
 * leave the same state. Each case runs in a transaction rolled back.
 *
 * The seed is printed; replay a failure with TAKE_MODEL_SEED=<seed> (and TAKE_MODEL_RUNS=<n>).
 */
const SEED = Number(process.env.TAKE_MODEL_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = Number(process.env.TAKE_MODEL_RUNS ?? 1000);

const takes: fc.Arbitrary<ModelTake[]> = fc.array(
  fc
    .record({
      amount: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 14 })),
      kind: fc.constant<'debit' | 'hold'>('debit'),
      mode: fc.constantFrom<'strict' | 'up_to' | 'collect'>('strict', 'strict', 'up_to', 'collect'),
    })
    .chain((t) =>
      // A hold is strict; the other modes are a debit's.
      t.mode === 'strict'
        ? fc.constantFrom<'debit' | 'hold'>('debit', 'hold').map((kind) => ({ ...t, kind }))
        : fc.constant(t),
    ),
  { minLength: 1, maxLength: 12 },
);

describe('the take = the model', () => {
  const db = new pg.Client({ connectionString: inject('databaseUrl') });
  beforeAll(() => db.connect());
  afterAll(() => db.end());
  const q = namedStatements(db);
  const { account, state } = caseAccounts(q);

  /** The one take over `asked` in one call: event i's row, in order (holds of sessions s-`first + i`). */
  const takeAll = (a: CaseAccount, asked: ModelTake[], first = 0) =>
    q<Record<string, string>>(
      `SELECT * FROM credits_take_events('test', $1, NULL, '{}', array_fill((SELECT account_id FROM accounts WHERE kind = $5 AND $2 IN (user_id, org_id)), ARRAY[$10::int]),
                                         $3::int[], $4::uuid[], $6::varchar[], $7::varchar[], $8::varchar[], $9::varchar[])
        ORDER BY out_ord`,
      [
        a.key,
        a.id,
        asked.map((t) => t.amount),
        asked.map((t) => (t.kind === 'hold' ? null : randomUUID())),
        a.kind,
        asked.map(() => a.member),
        asked.map((t) => t.kind),
        asked.map((t) => t.mode),
        asked.map((t, i) => (t.kind === 'hold' ? `s-${first + i}` : null)),
        asked.length,
      ],
    );
  const outcomeOf = (r: Record<string, string>): ModelOutcome => {
    const ok = r.out_status === 'ok';
    return {
      status: r.out_status,
      collected: ok ? Number(r.out_collected) : 0,
      debt: ok ? Number(r.out_debt) : 0,
      // after an ok the balance left; after `insufficient` what was there to take (available + headroom)
      balance: ok || r.out_status === 'insufficient' ? Number(r.out_balance) : 0,
    };
  };
  /** The balance alerts and auto-recharge requests sent about the account, in a stable order. */
  const balanceEvents = async (a: CaseAccount) =>
    sortEvents(
      (
        await q<{ type: string; threshold: number | null; balance: number | null }>(
          `SELECT type, (data->>'threshold')::int AS threshold, (data->>'balance')::int AS balance FROM events
            WHERE (user_id = $1 OR data->>'orgId' = $1)
              AND type IN ('balance.low', 'balance.depleted', 'auto_recharge.requested')`,
          [a.id],
        )
      ).map((e): ModelEvent =>
        e.type === 'balance.low'
          ? { type: 'balance.low', threshold: e.threshold!, balance: e.balance! }
          : { type: e.type as 'balance.depleted' | 'auto_recharge.requested' },
      ),
    );

  it(`decides and moves as the model over ${RUNS} generated cases (seed ${SEED})`, async () => {
    console.log(`take model: seed ${SEED}, ${RUNS} runs (replay: TAKE_MODEL_SEED=${SEED})`);
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(setups, takes, async (setup, asked) => {
        await db.query('BEGIN');
        try {
          const [{ minute }] = await q<{ minute: string }>(
            `SELECT floor(extract(epoch FROM now()) / 60)::bigint AS minute`,
          );
          const model = modelOf(setup, Number(minute));
          const expected = asked.map((t) => take(model, t));

          // One take per call, on one account.
          const one = await account(setup, 'm');
          for (const [i, t] of asked.entries()) {
            const [r] = await takeAll(one, [t], i);
            expect(outcomeOf(r), `take ${i} of ${JSON.stringify(asked)}`).toEqual(expected[i]);
            const key = `${t.kind}/${t.mode}/${r.out_status}${Number(r.out_debt) > 0 ? '/debt' : ''}`;
            seen.set(key, (seen.get(key) ?? 0) + 1);
          }
          // All of them in one call, on another account with the same setup.
          const all = await account(setup, 'b');
          expect((await takeAll(all, asked)).map(outcomeOf), `one call: ${JSON.stringify(asked)}`).toEqual(expected);

          for (const a of [one, all]) {
            const after = await state(a);
            expect({ allocations: after.allocations ?? [], debt: Number(after.account.debt) }).toEqual({
              allocations: model.allocations,
              debt: model.debt,
            });
            if (a.key) expect(Number(after.key_spend)).toBe(model.key!.spent);
            if (a.member) expect(after.member_spend).toEqual([model.member!.spent]);
            const [{ used }] = await q<{ used: string }>(
              `SELECT (SELECT COALESCE(sum(x), 0) FROM unnest(credit_spend_window(c.spend_window, c.spend_minute, $2)) x) AS used
                 FROM credit_accounts c WHERE c.account_id = (SELECT account_id FROM accounts WHERE kind = $3 AND $1 IN (user_id, org_id))`,
              [a.id, minute, a.kind],
            );
            expect(Number(used), 'the hourly window').toBe(model.windowUsed);
            expect(await balanceEvents(a), 'alerts and auto-recharge').toEqual(sortEvents(model.events));
          }
          for (const e of model.events) seen.set(e.type, (seen.get(e.type) ?? 0) + 1);
        } finally {
          await db.query('ROLLBACK');
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
    console.log('outcomes seen:', Object.fromEntries([...seen].sort()));
    if (RUNS >= 500)
      for (const k of [
        'hold/strict/ok',
        'hold/strict/key_limit',
        'debit/strict/member_limit',
        'debit/strict/not_a_member',
        'debit/strict/rate_limited',
        'debit/up_to/ok/debt',
        'debit/collect/ok/debt',
        'balance.low',
        'balance.depleted',
        'auto_recharge.requested',
      ])
        expect(seen.get(k) ?? 0, k).toBeGreaterThan(0);
  }, 600_000);
});

/** Events in one order whatever order they were sent in (a transaction's events share a timestamp). */
function sortEvents(events: ModelEvent[]): ModelEvent[] {
  const key = (e: ModelEvent) => `${e.type}/${'threshold' in e ? String(e.threshold).padStart(4, '0') : ''}`;
  return [...events].sort((x, y) => key(x).localeCompare(key(y)));
}
