import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CLOCK, type Clock } from '../src/common/clock.js';
import { DomainError } from '../src/common/errors/domain-error.js';
import { CreditExpiryJob } from '../src/plans/credit-expiry.job.js';
import { SubscriptionsService } from '../src/plans/subscriptions.service.js';
import { startTestApp, type TestApp, uniqueId } from './support/app.js';
import { freezeClock, passTime } from './support/clock.js';
import { FinancePurchases } from './support/finance-purchases.js';
import { Fixtures, type FixtureUser, principal } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';
import { Metering } from './support/metering.js';
import { expectOrgInvariants } from './support/org-invariants.js';

/**
 * Plan changes over random sequences (docs/plans.md "Changing plans", its three rules): subscription
 * PUTs with every option (each previewed first, on the other instance), DELETEs, purchases, refunds,
 * plan edits, grants, records, holds, and time passing within and across periods, on two instances.
 * After each sequence: no allocation but a plan's ever lost a credit except by consumption, refund or
 * its own expiry (none was shortened or voided or rolled over); the plan credits granted in each
 * period stay within the largest plan held in it; every ledger and finance identity holds. The same
 * for an organisation's subscription (its member records against the pool; purchases, refunds and
 * holds are the user's run only).
 */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const PLAN_NAMES = ['free', 'small', 'big', 'pro'] as const;
type PlanName = (typeof PLAN_NAMES)[number];

const op = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('put' as const),
      plan: fc.constantFrom(...PLAN_NAMES),
      timing: fc.constantFrom(undefined, 'now', 'period_end'),
      allowance: fc.constantFrom(undefined, 'difference', 'prorated', 'full'),
      anchor: fc.constantFrom(undefined, 'keep', 'restart'),
    }),
    weight: 6,
  },
  { arbitrary: fc.constant({ kind: 'delete' as const }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('buy' as const), credits: fc.integer({ min: 1, max: 500 }) }), weight: 1 },
  {
    arbitrary: fc.record({ kind: fc.constant('refund' as const), pick: fc.double({ min: 0, max: 0.999 }) }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('grant' as const), credits: fc.integer({ min: 1, max: 300 }) }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('record' as const), credits: fc.integer({ min: 1, max: 400 }) }),
    weight: 2,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('hold' as const), credits: fc.integer({ min: 1, max: 200 }) }),
    weight: 1,
  },
  { arbitrary: fc.record({ kind: fc.constant('settle' as const), share: fc.double({ min: 0, max: 1 }) }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('edit' as const),
      plan: fc.constantFrom(...PLAN_NAMES),
      credits: fc.integer({ min: 50, max: 6000 }),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('time' as const),
      ms: fc.oneof(fc.integer({ min: HOUR, max: 8 * HOUR }), fc.integer({ min: DAY + 60_000, max: DAY + 8 * HOUR })),
    }),
    weight: 2,
  },
);

type Op = typeof op extends fc.Arbitrary<infer O> ? O : never;

describe('plan changes: the three rules over random sequences on two instances', () => {
  let t: TestApp;
  let t2: TestApp;
  let f: Fixtures;
  let metering: Metering;
  let clock: { advance(ms: number): void };
  const users: string[] = [];
  const orgs: string[] = [];
  const admin = principal('admin', 'pcp-admin');
  const supervisor = principal('supervisor', 'pcp-sup');
  const plans = {} as Record<PlanName, { id: string; credits: number }>;

  beforeAll(async () => {
    t = await startTestApp();
    t2 = await startTestApp({ JOBS_ENABLED: 'false' });
    clock = freezeClock(t);
    // Both instances read one clock: a preview on one and the PUT on the other decide at one instant.
    t2.app.get<Clock>(CLOCK).now = () => t.app.get<Clock>(CLOCK).now();
    f = new Fixtures(t, { users, prefix: 'pcp' });
    metering = await Metering.start(t);
    const terms: Record<PlanName, [number, number]> = {
      free: [100, 0],
      small: [500, 100],
      big: [1000, 300],
      pro: [5000, 0],
    };
    for (const name of PLAN_NAMES) {
      const id = uniqueId(`pcp-${name}`).toLowerCase();
      const [credits, rolloverCap] = terms[name];
      await t.http
        .post('/api/plans')
        .set(admin.auth)
        .send({ id, name, credits, period: 'day', rolloverCap })
        .expect(201);
      plans[name] = { id, credits };
    }
  });
  afterAll(async () => {
    await expectInvariants(t, users);
    await expectOrgInvariants(t, orgs);
    await t2.close();
    await t.close();
  });

  const now = () => new Date(t.app.get<Clock>(CLOCK).now());

  type Owner = { userId: string } | { orgId: string };
  const columnOf = (o: Owner) => ('orgId' in o ? 'org_id' : 'user_id');
  const idOf = (o: Owner) => ('orgId' in o ? o.orgId : o.userId);
  const subscriptionPath = (o: Owner) =>
    'orgId' in o ? `/api/orgs/${o.orgId}/subscription` : `/api/users/${o.userId}/subscription`;

  async function allocations(owner: Owner) {
    const { rows } = await t.db.query(
      `SELECT id, source, total_credits, period_start, expires_at FROM credit_allocations
        WHERE account_id = (SELECT account_id FROM accounts WHERE ${columnOf(owner)} = $1) ORDER BY allocated_at, id`,
      [idOf(owner)],
    );
    return rows as { id: string; source: string; total_credits: number; period_start: Date | null; expires_at: Date }[];
  }

  /**
   * One sequence for a fresh user, or a fresh org of a fresh owner; `held` is the model: the largest
   * plan credits held per period start.
   */
  async function runSequence(ops: Op[], kind: 'user' | 'org' = 'user') {
    const user: FixtureUser = await f.newUser();
    const orgId = kind === 'org' ? uniqueId('pcp-org').toLowerCase() : null;
    if (orgId) {
      orgs.push(orgId);
      await t.http.post('/api/orgs').set(admin.auth).send({ orgId, name: 'Team', ownerUserId: user.id }).expect(201);
    }
    const owner: Owner = orgId ? { orgId } : { userId: user.id };
    const purchases = FinancePurchases.of(t.app, uniqueId('pcp'));
    const held = new Map<number, number>();
    const hold = (start: string | null, planId: string) => {
      if (start === null) return;
      const credits = Object.values(plans).find((p) => p.id === planId)!.credits;
      const key = new Date(start).getTime();
      held.set(key, Math.max(held.get(key) ?? 0, credits));
    };
    /** What each non-plan allocation's expiry was when first seen: a change must never move it. */
    const expiries = new Map<string, number>();
    const seeLots = async () => {
      for (const a of await allocations(owner))
        if (a.source !== 'plan' && !expiries.has(a.id)) expiries.set(a.id, a.expires_at.getTime());
    };
    const sessions: { id: string; held: number }[] = [];
    let n = 0;
    for (const [i, o] of ops.entries()) {
      const http = i % 2 === 0 ? t.http : t2.http;
      const other = i % 2 === 0 ? t2.http : t.http;
      await seeLots();
      // A second between steps: a restart's period never starts at the instant the one before did.
      clock.advance(1000);
      // Purchases, refunds and holds are of a user's account in these helpers: the org's run skips them.
      if (orgId && ['buy', 'refund', 'hold', 'settle'].includes(o.kind)) continue;
      switch (o.kind) {
        case 'put': {
          const body = Object.fromEntries(
            Object.entries({
              planId: plans[o.plan].id,
              timing: o.timing,
              allowance: o.allowance,
              anchor: o.anchor,
            }).filter(([, v]) => v !== undefined),
          );
          const before = new Set((await allocations(owner)).map((a) => a.id));
          const said = await other
            .post(`${subscriptionPath(owner)}/preview`)
            .set(supervisor.auth)
            .send(body);
          const did = await http.put(subscriptionPath(owner)).set(supervisor.auth).send(body);
          expect(did.status).toBe(said.status);
          expect([200, 400, 409]).toContain(did.status);
          if (did.status !== 200) break;
          const granted = (await allocations(owner))
            .filter((a) => !before.has(a.id) && a.source === 'plan')
            .reduce((s, a) => s + a.total_credits, 0);
          expect({
            creditsGrantedNow: said.body.creditsGrantedNow,
            currentPeriodStart: said.body.currentPeriodStart,
            currentPeriodEnd: said.body.currentPeriodEnd,
            nextGrantAt: said.body.nextGrantAt,
          }).toEqual({
            creditsGrantedNow: granted,
            currentPeriodStart: did.body.currentPeriodStart,
            currentPeriodEnd: did.body.currentPeriodEnd,
            nextGrantAt: did.body.nextGrantAt,
          });
          hold(did.body.currentPeriodStart, did.body.planId);
          break;
        }
        case 'delete':
          expect([200, 404]).toContain((await http.delete(subscriptionPath(owner)).set(supervisor.auth)).status);
          break;
        case 'buy':
          await purchases.buy(user.id, o.credits, o.credits * 7, 'usd');
          break;
        case 'refund':
          await purchases
            .refund(user.id, () => o.pick)
            .catch((e) => {
              if (!(e instanceof DomainError)) throw e;
            });
          break;
        case 'grant':
          if (orgId)
            await t.http
              .post('/api/credits/allocate')
              .set(admin.auth)
              .send({ orgId, credits: o.credits, expiryDays: 1 + (o.credits % 5) })
              .expect(201);
          else await f.grant(user.id, { credits: o.credits, expiryDays: 1 + (o.credits % 5) });
          break;
        case 'record':
          expect([201, 402]).toContain(
            (
              await http
                .post('/api/usage/record')
                .set(user.auth)
                .send({ service: 'chat', operation: 'completion', credits: o.credits, ...(orgId ? { orgId } : {}) })
            ).status,
          );
          break;
        case 'hold': {
          const id = `pcp-${user.id}-${++n}`;
          try {
            await metering.initialize(user.id, id, o.credits);
            sessions.push({ id, held: Math.ceil((o.credits * 6) / 5) });
          } catch (e) {
            if (!(e instanceof DomainError)) throw e;
          }
          break;
        }
        case 'settle': {
          const s = sessions.shift();
          if (s) await metering.finalize(user.id, s.id, Math.floor(s.held * o.share * (5 / 6)));
          break;
        }
        case 'edit':
          await t.http.patch(`/api/plans/${plans[o.plan].id}`).set(admin.auth).send({ credits: o.credits }).expect(200);
          plans[o.plan].credits = o.credits;
          break;
        case 'time': {
          await passTime(t.db, orgId ? { orgId } : user.id, o.ms);
          for (const [key, credits] of [...held]) {
            held.delete(key);
            held.set(key - o.ms, credits);
          }
          for (const [id, at] of expiries) expiries.set(id, at - o.ms);
          const { rows } = await t.db.query(
            `SELECT id, account_id FROM subscriptions WHERE ${columnOf(owner)} = $1 AND ended_at IS NULL`,
            [idOf(owner)],
          );
          if (rows[0]) await t2.app.get(SubscriptionsService).renewDue(rows[0].id, rows[0].account_id, now());
          await t.app.get(CreditExpiryJob).expireDue();
          const live = await t.http.get(subscriptionPath(owner)).set(supervisor.auth);
          if (live.status === 200) hold(live.body.currentPeriodStart, live.body.planId);
          break;
        }
      }
    }
    for (const s of sessions) await metering.finalize(user.id, s.id, 0);
    await seeLots();

    // Rule 1: every allocation but a plan's keeps its expiry, and loses credits only by use, refund or expiry.
    const lots = await allocations(owner);
    for (const a of lots.filter((l) => l.source !== 'plan'))
      expect([a.id, a.expires_at.getTime()]).toEqual([a.id, expiries.get(a.id)]);
    const { rows: lines } = await t.db.query(
      `SELECT a.source, l.kind, l.created_at >= a.expires_at AS after_expiry FROM credit_ledger l
         JOIN credit_allocations a ON a.id = l.allocation_id
        WHERE a.account_id = (SELECT account_id FROM accounts WHERE ${columnOf(owner)} = $1) AND a.source <> 'plan'
          AND l.amount < 0`,
      [idOf(owner)],
    );
    for (const line of lines) {
      expect(['debit', 'hold', 'refund', 'expire', 'freeze', 'debt']).toContain(line.kind);
      if (line.kind === 'expire') expect(line.after_expiry).toBe(true);
    }
    // Rule 2: the plan credits granted in each period are within the largest plan held in it.
    const periods = new Map<number, number>();
    for (const a of lots.filter((l) => l.source === 'plan'))
      periods.set(a.period_start!.getTime(), (periods.get(a.period_start!.getTime()) ?? 0) + a.total_credits);
    for (const [start, granted] of periods)
      expect([start, granted]).toEqual([start, Math.min(granted, held.get(start) ?? 0)]);
    await expectInvariants(t, [user.id]);
    if (orgId) await expectOrgInvariants(t, [orgId]);
  }

  it('property: no bought or given lot loses a credit to a change; plan credits per period within the bound', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 25 }), (ops) => runSequence(ops)),
      { numRuns: 25, seed: 77_077 },
    );
  });

  it('property: the same for an organisation’s subscription and its pool', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 25 }), (ops) => runSequence(ops, 'org')),
      { numRuns: 15, seed: 77_078 },
    );
    // The runs reached the pools: plan grants to the orgs, and records charged to them.
    const { rows } = await t.db.query(
      `SELECT (SELECT count(*)::int FROM credit_allocations a JOIN accounts ac ON ac.account_id = a.account_id
                WHERE ac.org_id = ANY($1) AND a.source = 'plan') AS plan_lots,
              (SELECT count(*)::int FROM credit_ledger l JOIN accounts ac ON ac.account_id = l.account_id
                WHERE ac.org_id = ANY($1) AND l.kind = 'debit') AS debits`,
      [orgs],
    );
    expect(rows[0].plan_lots).toBeGreaterThan(orgs.length);
    expect(rows[0].debits).toBeGreaterThan(0);
  });
});
