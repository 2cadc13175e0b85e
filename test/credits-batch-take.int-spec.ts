import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { chargedAccount } from '../src/accounts/account-ref.js';
import type { AuthUser } from '../src/auth/roles.js';
import { DomainError, SpendRateLimitedError } from '../src/common/errors/domain-error.js';
import { CreditsService } from '../src/engine/credits.service.js';
import { UsageBatchService } from '../src/usage/batch/usage-batch.service.js';
import { UsageService } from '../src/usage/usage.service.js';
import { UsageRecordsRepository } from '../src/usage/usage-records.repository.js';
import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { expectCreditInvariants } from './support/credit-invariants.js';
import { Fixtures, tokenFor } from './support/fixtures.js';

const admin: AuthUser = { userId: 'batch-take-admin', role: 'admin', email: null, username: null, via: 'jwt' };
const asUser = (userId: string): AuthUser => ({ userId, role: 'user', email: null, username: null, via: 'jwt' });

/**
 * One user's setup: allocations (credits, days to expiry), overdraft, own alert thresholds, hourly
 * limit, and the budget of the API key the events come through (null: a JWT).
 */
interface Setup {
  allocations: { credits: number; days: number }[];
  overdraft: number;
  thresholds: number[] | null;
  hourly: number | null;
  keyBudget: number | null;
}

/**
 * The set-based batch take (credits_take_events) against the single record route (credits_take), the
 * money path it must match exactly: the same users, the same events in the same order, through each.
 * Per event the same outcome; per user the same ledger (kind, amount, balance after), allocations,
 * debt and balance alerts. Batch users are interleaved in one batch, so the per-user state of the
 * loop is checked too.
 */
describe('batch take = single takes', () => {
  let t: TestApp;
  let f: Fixtures;
  let usage: UsageService;
  let batch: UsageBatchService;
  const adminAuth = bearer(tokenFor('admin', 'batch-take-granter'));

  beforeAll(async () => {
    t = await startTestApp({ LOW_BALANCE_THRESHOLDS: '10,3', JOBS_ENABLED: 'false' });
    f = new Fixtures(t, { granter: tokenFor('admin', 'batch-take-granter'), prefix: 'bt' });
    usage = t.app.get(UsageService);
    batch = t.app.get(UsageBatchService);
    // reconcile (in the invariants) wants at least one allocation in the database; setups may have none
    await f.newUser({ credits: 1 });
  });
  afterAll(() => t.close());

  async function newUser(setup: Setup, expiries: Date[]): Promise<string> {
    const { id } = await f.newUser({
      credits: setup.allocations.map((a, i) => ({ credits: a.credits, expiresAt: expiries[i].toISOString() })),
    });
    const limits = { overdraftLimit: setup.overdraft, maxCreditsPerHour: setup.hourly };
    await t.http.put(`/api/credits/limits/${id}`).set(adminAuth).send(limits).expect(200);
    if (setup.thresholds)
      await t.http.put(`/api/credits/alerts/${id}`).set(adminAuth).send({ thresholds: setup.thresholds }).expect(200);
    return id;
  }

  /** What a user's money looks like, in terms that do not depend on ids or times. */
  async function state(userId: string) {
    const ledger = await t.db.query(
      `SELECT kind, amount, balance_after::int AS after FROM credit_ledger WHERE member_id = $1 AND kind <> 'grant'
        ORDER BY id`,
      [userId],
    );
    const allocations = await t.db.query(
      `SELECT remaining_credits AS remaining FROM credit_allocations WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) ORDER BY expires_at`,
      [userId],
    );
    const debt = await t.db.query(
      `SELECT COALESCE(max(debt), 0)::int AS debt FROM credit_accounts WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)`,
      [userId],
    );
    const alerts = await t.db.query(
      `SELECT type, data->'threshold' AS threshold, data->'balance' AS balance FROM events
        WHERE user_id = $1 AND type LIKE 'balance.%' ORDER BY created_at, type DESC, (data->>'threshold')::int DESC`,
      [userId],
    );
    const keyEvents = await t.db.query(
      `SELECT count(*)::int AS n FROM events WHERE user_id = $1 AND type = 'api_key.limit_reached'`,
      [userId],
    );
    const records = await t.db.query(`SELECT credits FROM usage_records WHERE user_id = $1 ORDER BY "timestamp", id`, [
      userId,
    ]);
    return {
      ledger: ledger.rows,
      allocations: allocations.rows,
      debt: debt.rows[0].debt,
      alerts: alerts.rows,
      keyEvents: keyEvents.rows[0].n,
      records: records.rows,
    };
  }

  const setups = fc.record({
    allocations: fc.array(
      fc.record({ credits: fc.integer({ min: 1, max: 30 }), days: fc.integer({ min: 1, max: 9 }) }),
      {
        minLength: 0,
        maxLength: 3,
      },
    ),
    overdraft: fc.constantFrom(0, 0, 4, 15),
    thresholds: fc.option(fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { maxLength: 3 }), { nil: null }),
    hourly: fc.option(fc.integer({ min: 1, max: 60 }), { nil: null, freq: 2 }),
    keyBudget: fc.option(fc.integer({ min: 1, max: 60 }), { nil: null, freq: 2 }),
  });

  /**
   * Who sends the events: the user's JWT, or (with a budget) the user's own key for the single route
   * and an admin's ingest key with the same budget for the batch.
   */
  async function callers(setup: Setup, single: string): Promise<{ single: AuthUser; batch: AuthUser }> {
    if (setup.keyBudget === null) return { single: asUser(single), batch: admin };
    const budget = { creditLimit: setup.keyBudget, limitPeriod: 'day' };
    const own = await f.apiKey({ auth: bearer(tokenFor('user', single)) }, budget);
    const ingest = await f.apiKey({ auth: adminAuth }, { ...budget, permissions: ['usage:write', 'usage:ingest'] });
    const viaKey = (userId: string, id: string, scopes: AuthUser['scopes']): AuthUser => ({
      ...asUser(userId),
      via: 'api-key',
      apiKeyId: id,
      scopes,
    });
    return {
      single: viaKey(single, own.id, ['usage:write']),
      batch: viaKey('batch-take-granter', ingest.id, ['usage:write', 'usage:ingest']),
    };
  }

  it('decides every event and moves every credit as the single route does', async () => {
    await fc.assert(
      fc.asyncProperty(
        setups,
        fc.array(fc.integer({ min: 0, max: 14 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.boolean(), { maxLength: 24 }),
        async (setup, amounts, interleave) => {
          // Distinct expiries, the same for every copy of the setup: FIFO order is then the same too.
          const base = Date.now() + 3_600_000;
          const expiries = setup.allocations.map((a, i) => new Date(base + a.days * 86_400_000 + i * 1000));
          const single = await newUser(setup, expiries);
          const [left, right] = [await newUser(setup, expiries), await newUser(setup, expiries)];
          const who = await callers(setup, single);

          const singleOutcomes: string[] = [];
          for (const credits of amounts) {
            try {
              await usage.record(who.single, { service: 'diff', operation: 'op', credits });
              singleOutcomes.push('created');
            } catch (error) {
              if (!(error instanceof DomainError)) throw error;
              singleOutcomes.push(error.code);
            }
          }

          // Both batch users get the same sequence, interleaved as the booleans say (through a budgeted
          // key only the left one: the key's budget is shared by every user it records for).
          const queues = { left: [...amounts], right: [...amounts] };
          const events: { eventId: string; userId: string; credits: number; service: string; operation: string }[] = [];
          const sides =
            setup.keyBudget === null
              ? [...interleave, ...amounts.flatMap(() => [true, false])]
              : amounts.map(() => true);
          for (const toLeft of sides) {
            const side = toLeft && queues.left.length > 0 ? 'left' : queues.right.length > 0 ? 'right' : 'left';
            const credits = queues[side].shift();
            if (credits === undefined) break;
            const userId = side === 'left' ? left : right;
            events.push({ eventId: uniqueId('evt'), userId, credits, service: 'diff', operation: 'op' });
          }
          const answer = await batch.recordBatch(who.batch, { events });
          const batchUsers = setup.keyBudget === null ? [left, right] : [left];
          for (const userId of batchUsers) {
            const outcomes = answer.results
              .filter((_, i) => events[i].userId === userId)
              .map((r) => (r.status === 'created' ? 'created' : r.error));
            // A refused event says `CODE: message` (docs/errors.md): its code is the single route's.
            expect(outcomes.map((o) => o?.split(':')[0])).toEqual(singleOutcomes);
            expect(outcomes.every((o) => o === 'created' || /^[A-Z_]+: \S/.test(o ?? ''))).toBe(true);
          }

          const expected = await state(single);
          for (const userId of batchUsers) expect(await state(userId)).toEqual(expected);
          if (who.single.apiKeyId && who.batch.apiKeyId) {
            const spent = await t.db.query(
              `SELECT subject_id AS api_key_id, spent::int FROM credit_cap_spend
                WHERE subject_kind = 'key' AND subject_id = ANY($1::varchar[])`,
              [[who.single.apiKeyId, who.batch.apiKeyId]],
            );
            const of = (id: string) => spent.rows.find((r) => r.api_key_id === id)?.spent ?? 0;
            expect(of(who.batch.apiKeyId)).toBe(of(who.single.apiKeyId));
          }
          await expectCreditInvariants(t, [single, ...batchUsers]);
        },
      ),
      {
        numRuns: 25,
        // Each limit binding for sure, besides the generated cases: the hourly rate, the key's budget, the
        // overdraft, and a balance landing exactly on a threshold.
        examples: [
          [
            { allocations: [{ credits: 30, days: 1 }], overdraft: 0, thresholds: null, hourly: 5, keyBudget: null },
            [3, 3, 2, 1],
            [],
          ],
          [
            { allocations: [{ credits: 30, days: 2 }], overdraft: 0, thresholds: null, hourly: null, keyBudget: 7 },
            [3, 3, 2, 1],
            [],
          ],
          [
            {
              allocations: [
                { credits: 4, days: 1 },
                { credits: 3, days: 2 },
              ],
              overdraft: 4,
              thresholds: [6, 2],
              hourly: null,
              keyBudget: null,
            },
            [5, 4, 2, 1, 1],
            [],
          ],
        ],
      },
    );
  });

  it('parallel batches over the same users and overlapping ids: no deadlock, each id recorded once', async () => {
    const users = await Promise.all(Array.from({ length: 5 }, () => f.newUser({ credits: [4000, 6000] })));
    const ids = Array.from({ length: 400 }, (_, i) => `ov-${uniqueId('e')}-${i}`);
    const shuffled = <T>(xs: T[]) =>
      xs
        .map((x) => ({ x, k: Math.random() }))
        .sort((a, b) => a.k - b.k)
        .map((p) => p.x);
    // Each id always belongs to the same user and amount, so every batch that records it means the same.
    const event = (id: string, i: number) => ({
      eventId: id,
      userId: users[i % users.length].id,
      credits: 1 + (i % 3),
      service: 's',
      operation: 'o',
    });
    const batches = Array.from({ length: 8 }, () =>
      shuffled(ids.map((id, i) => ({ id, i })))
        .slice(0, 300)
        .map(({ id, i }) => event(id, i)),
    );
    const answers = await Promise.all(batches.map((events) => batch.recordBatch(admin, { events })));
    const created = answers.flatMap((a) => a.results.filter((r) => r.status === 'created').map((r) => r.eventId));
    expect(new Set(created).size).toBe(created.length);
    const sent = new Set(batches.flat().map((e) => e.eventId));
    expect(created.length).toBe(sent.size);
    for (const [u, user] of users.entries()) {
      const spent = ids
        .map((id, i) => ({ id, i }))
        .filter(({ id, i }) => sent.has(id) && i % users.length === u)
        .reduce((sum, { i }) => sum + 1 + (i % 3), 0);
      expect(await f.available(user.id)).toBe(10_000 - spent);
    }
    await expectCreditInvariants(
      t,
      users.map((u) => u.id),
    );
  });

  /** What a refusal says, with its Retry-After when it is a spend-rate refusal. */
  const refusal = (error: DomainError) => ({
    status: error.code,
    retryAfter: error instanceof SpendRateLimitedError ? error.retryAfterSeconds : null,
  });

  it('decides hourly limits as the single route does when the spend window is hours or minutes old', async () => {
    const credits = t.app.get(CreditsService);
    const records = t.app.get(UsageRecordsRepository);
    const manager = t.app.get(DataSource).manager;
    const minuteNow = async () =>
      Number((await t.db.query(`SELECT floor(extract(epoch FROM now()) / 60)::bigint AS m`)).rows[0].m);
    const windowOf = async (userId: string) =>
      (
        await t.db.query(
          `SELECT floor(extract(epoch FROM now()) / 60)::bigint - spend_minute AS age, spend_window
             FROM credit_accounts WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)`,
          [userId],
        )
      ).rows[0];
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 5, max: 40 }),
        // Minutes since the window's newest bucket: this minute, within the hour, at and past its edge.
        fc.constantFrom(0, 1, 2, 30, 58, 59, 60, 61, 500),
        fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 60, maxLength: 60 }),
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 10 }),
        async (hourly, age, buckets, amounts) => {
          const setup: Setup = {
            allocations: [{ credits: 500, days: 3 }],
            overdraft: 0,
            thresholds: null,
            hourly,
            keyBudget: null,
          };
          const expiries = [new Date(Date.now() + 3 * 86_400_000)];
          const [single, viaBatch] = [await newUser(setup, expiries), await newUser(setup, expiries)];
          const before = await minuteNow();
          await t.db.query(
            `UPDATE credit_accounts SET spend_minute = floor(extract(epoch FROM now()) / 60)::bigint - $2::int,
                    spend_window = $3::int[]
              WHERE account_id IN (SELECT (SELECT account_id FROM accounts WHERE user_id = u) FROM unnest($1::varchar[]) u)`,
            [[single, viaBatch], age, buckets],
          );

          const singleOutcomes: { status: string; retryAfter: number | null }[] = [];
          for (const amount of amounts) {
            try {
              await usage.record(asUser(single), { service: 'window', operation: 'op', credits: amount });
              singleOutcomes.push({ status: 'created', retryAfter: null });
            } catch (error) {
              if (!(error instanceof DomainError)) throw error;
              singleOutcomes.push(refusal(error));
            }
          }
          // The batch service resolves each event's account at the edge; this batch is one user's.
          const [accountId] = (
            await t.db.query(`SELECT account_id::text AS id FROM accounts WHERE user_id = $1`, [viaBatch])
          ).rows.map((r: { id: string }) => r.id);
          const items = await Promise.all(
            amounts.map(async (amount) => ({
              eventId: uniqueId('win'),
              input: await usage.prepare(
                {
                  account: chargedAccount(null, viaBatch),
                  accountId,
                  actor: { apiKeyId: null, actorId: null },
                  keyModels: [],
                },
                { service: 'window', operation: 'op', credits: amount },
              ),
            })),
          );
          const outcomes = await credits.debitAndInsertMany(
            manager,
            {},
            records.batchParts(admin.userId, items, { label: 'usage_batch', createdBy: admin.userId }),
          );
          // Across a minute boundary the two runs meet different windows, rightly: not comparable.
          fc.pre((await minuteNow()) === before);

          const batchOutcomes = outcomes.map((o) =>
            o.status === 'refused' ? refusal(o.error) : { status: o.status, retryAfter: null },
          );
          expect(batchOutcomes.map((o) => o.status)).toEqual(singleOutcomes.map((o) => o.status));
          // Retry-After counts seconds from each statement's own clock: the runs are a moment apart.
          for (const [i, o] of batchOutcomes.entries()) {
            if (o.retryAfter === null) expect(singleOutcomes[i].retryAfter).toBeNull();
            else expect(Math.abs(o.retryAfter - singleOutcomes[i].retryAfter!)).toBeLessThanOrEqual(3);
          }
          expect(await windowOf(viaBatch)).toEqual(await windowOf(single));
          expect(await state(viaBatch)).toEqual(await state(single));
          await expectCreditInvariants(t, [single, viaBatch]);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('answers a duplicate and an unknown user per event, and moves nothing for them', async () => {
    const { id } = await f.newUser({ credits: 10 });
    const first = await batch.recordBatch(admin, {
      events: [{ eventId: 'dup-1', userId: id, service: 's', operation: 'o', credits: 4 }],
    });
    const again = await batch.recordBatch(admin, {
      events: [
        { eventId: 'dup-1', userId: id, service: 's', operation: 'o', credits: 4 },
        { eventId: 'ghost-1', userId: uniqueId('nobody'), service: 's', operation: 'o', credits: 1 },
        { eventId: 'dup-2', userId: id, service: 's', operation: 'o', credits: 6 },
      ],
    });
    expect(again.results.map((r) => r.status)).toEqual(['duplicate', 'invalid', 'created']);
    expect(again.results[0].usageRecordId).toBe(first.results[0].usageRecordId);
    expect(await f.available(id)).toBe(0);
    await expectCreditInvariants(t, [id]);
  });
});
