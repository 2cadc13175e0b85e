import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CreditExpiryJob } from '../src/plans/credit-expiry.job.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { expireAllocationNow, freezeClock } from './support/clock.js';
import { Fixtures, principal } from './support/fixtures.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';

const DAY = 86_400_000;

interface ListItem {
  userId: string;
  createdAt: string;
  totalCredits: number;
  heldCredits: number;
  debt: number;
}

/**
 * The reads operators need (docs/operators.md): a user's overview, the user list's sorts
 * and filters on cursors, alert thresholds, ledger filters, the liability summary, void details.
 * Its own database, so the summary's totals are exactly what this file did.
 */
describe('operator reads', () => {
  let own: OwnDatabase;
  let t: TestApp;
  let f: Fixtures;
  const admin = principal('admin', 'ops-admin');
  const supervisor = principal('supervisor', 'ops-sup');
  const user = principal('user', 'ops-user');

  beforeAll(async () => {
    own = await ownDatabase('operator_reads');
    t = await startTestApp({ DATABASE_URL: own.url, JOBS_ENABLED: 'false', LOW_BALANCE_THRESHOLDS: '100,10' });
    f = new Fixtures(t, { prefix: 'ops', granter: admin.jwt });
    for (const p of [admin, supervisor, user]) await t.http.get('/api/users/me').set(p.auth).expect(200);
  });
  afterAll(async () => {
    await t?.close();
    await own?.drop();
  });

  describe('GET /api/users/:userId', () => {
    it('answers the account with its money, plan, limits and thresholds', async () => {
      const u = await f.newUser({ credits: [100] });
      const planId = uniqueId('ops-plan').toLowerCase();
      await t.http
        .post('/api/plans')
        .set(admin.auth)
        .send({ id: planId, name: 'Ops', credits: 50, period: 'month' })
        .expect(201);
      await t.http.put(`/api/users/${u.id}/subscription`).set(admin.auth).send({ planId }).expect(200);
      await t.http.put(`/api/credits/limits/${u.id}`).set(admin.auth).send({ overdraftLimit: 20 }).expect(200);
      const hold = await t.http
        .post('/api/streaming-sessions/initialize')
        .set(u.auth)
        .send({ modelId: 'anthropic.claude-instant-v1', estimatedTokens: 10_000 }); // 8 credits → hold 10
      expect(hold.status).toBe(201);

      const res = await t.http.get(`/api/users/${u.id}`).set(supervisor.auth).expect(200);
      expect(res.body).toEqual({
        userId: u.id,
        email: `${u.id}@example.com`,
        username: u.id,
        role: 'user',
        createdAt: expect.any(String),
        erasedAt: null,
        billingCurrency: null,
        totalCredits: 140,
        heldCredits: 10,
        debt: 0,
        subscription: expect.objectContaining({ userId: u.id, planId }),
        limits: { overdraftLimit: 20, maxCreditsPerHour: null, effectiveMaxCreditsPerHour: null },
        alertThresholds: [100, 10],
      });
    });

    it('404 for an unknown user; 403 for a user token', async () => {
      await t.http
        .get(`/api/users/${uniqueId('nobody')}`)
        .set(supervisor.auth)
        .expect(404);
      // Another user's account is one a user may not see (404); their own needs supervisor (403).
      await t.http.get(`/api/users/${admin.id}`).set(user.auth).expect(404);
      await t.http.get(`/api/users/${user.id}`).set(user.auth).expect(403);
    });
  });

  describe('GET /api/credits/alerts/:userId', () => {
    it('answers the defaults, then the user’s own', async () => {
      const u = await f.newUser();
      const before = await t.http.get(`/api/credits/alerts/${u.id}`).set(supervisor.auth).expect(200);
      expect(before.body).toEqual({ userId: u.id, thresholds: [100, 10], source: 'default' });
      await t.http
        .put(`/api/credits/alerts/${u.id}`)
        .set(supervisor.auth)
        .send({ thresholds: [5, 500] })
        .expect(200);
      const after = await t.http.get(`/api/credits/alerts/${u.id}`).set(supervisor.auth).expect(200);
      expect(after.body).toEqual({ userId: u.id, thresholds: [500, 5], source: 'user' });
      await t.http.get(`/api/credits/alerts/${u.id}`).set(user.auth).expect(404);
      await t.http
        .get(`/api/credits/alerts/${uniqueId('nobody')}`)
        .set(supervisor.auth)
        .expect(404);
    });
  });

  describe('GET /api/users: sorts and filters on cursors', () => {
    const tag = uniqueId('sortme');
    const made: string[] = [];
    let planId: string;

    beforeAll(async () => {
      planId = uniqueId('sort-plan').toLowerCase();
      await t.http
        .post('/api/plans')
        .set(admin.auth)
        .send({ id: planId, name: 'Sort', credits: 1, period: 'month' })
        .expect(201);
      // Balances 30, 10, 31, 0, 20, then the plan's 1 credit to 0 and 4: 31, 10, 31, 0, 21 (a tie on
      // purpose); debts on two of them.
      for (const [i, credits] of [30, 10, 31, 0, 20].entries()) {
        const id = `${tag}-${i}`;
        made.push(id);
        await t.http
          .get('/api/users/me')
          .set(bearer(token({ sub: id })))
          .expect(200);
        if (credits > 0) await f.grant(id, credits);
      }
      for (const [i, debt] of [
        [1, 7],
        [3, 4],
      ]) {
        await t.http.put(`/api/credits/limits/${made[i]}`).set(admin.auth).send({ overdraftLimit: 50 }).expect(200);
        await t.http
          .post('/api/usage/record')
          .set(bearer(token({ sub: made[i] })))
          .send({ service: 'chat', operation: 'completion', credits: (i === 1 ? 10 : 0) + debt })
          .expect(201);
      }
      for (const i of [0, 4]) {
        await t.http.put(`/api/users/${made[i]}/subscription`).set(admin.auth).send({ planId }).expect(200);
      }
    });

    async function all(query: Record<string, string>): Promise<ListItem[]> {
      const items: ListItem[] = [];
      let cursor: string | null = null;
      do {
        const res: { status: number; body: { items: ListItem[]; nextCursor: string | null } } = await t.http
          .get('/api/users')
          .query({ search: tag, limit: '2', ...query, ...(cursor ? { cursor } : {}) })
          .set(supervisor.auth);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        items.push(...res.body.items);
        cursor = res.body.nextCursor;
      } while (cursor);
      return items;
    }

    it('each sort pages in its order, without repeats or gaps', async () => {
      const created = await all({});
      expect(created.map((i) => i.userId)).toEqual(made);
      expect((await all({ sort: '-created' })).map((i) => i.userId)).toEqual([...made].reverse());
      const byBalance = await all({ sort: '-balance' });
      // 31, 31 (ties: user id descending), 21, 0, 0.
      expect(byBalance.map((i) => [i.userId, i.totalCredits])).toEqual([
        [made[2], 31],
        [made[0], 31],
        [made[4], 21],
        [made[3], 0],
        [made[1], 0],
      ]);
      const byDebt = await all({ sort: '-debt' });
      expect(byDebt.map((i) => [i.userId, i.debt])).toEqual([
        [made[1], 7],
        [made[3], 4],
        [made[4], 0],
        [made[2], 0],
        [made[0], 0],
      ]);
      expect(byDebt.every((i) => i.heldCredits === 0)).toBe(true);
    });

    it('filters by debt and by plan', async () => {
      expect((await all({ hasDebt: 'true' })).map((i) => i.userId)).toEqual([made[1], made[3]]);
      expect((await all({ hasDebt: 'false' })).map((i) => i.userId)).toEqual([made[0], made[2], made[4]]);
      expect((await all({ planId, sort: '-balance' })).map((i) => i.userId)).toEqual([made[0], made[4]]);
    });

    it('refuses a cursor of another sort, bad values, and users', async () => {
      const first = await t.http
        .get('/api/users')
        .query({ search: tag, limit: '1', sort: '-balance' })
        .set(supervisor.auth)
        .expect(200);
      for (const query of [
        { sort: '-debt', cursor: first.body.nextCursor },
        { sort: 'created', cursor: first.body.nextCursor },
        { sort: 'balance' },
        { hasDebt: 'yes' },
        { planId: 'Not A Plan' },
      ]) {
        const res = await t.http.get('/api/users').query(query).set(supervisor.auth);
        expect(res.status, JSON.stringify(query)).toBe(400);
      }
      await t.http.get('/api/users').set(user.auth).expect(403);
    });
  });

  describe('ledger filters and void details', () => {
    it('filters by kind, allocation and time; users see their own only', async () => {
      const u = await f.newUser({ credits: [40, 60] });
      const [a, b] = u.allocationIds;
      await f.recordUsage(u, 15).expect(201);
      const voided = await t.http
        .post(`/api/credits/allocations/${b}/void`)
        .set(admin.auth)
        .send({ reason: 'duplicate grant' })
        .expect(200);
      expect(voided.body).toMatchObject({ voidedBy: admin.id, voidReason: 'duplicate grant', remainingCredits: 0 });
      expect(Date.parse(voided.body.voidedAt)).toBeGreaterThan(Date.now() - 60_000);
      const listed = await t.http
        .get('/api/credits/allocations')
        .query({ userId: u.id, includeExpired: 'true' })
        .set(supervisor.auth)
        .expect(200);
      const byId = new Map(listed.body.items.map((x: { id: string }) => [x.id, x]));
      expect(byId.get(b)).toMatchObject({ voidedBy: admin.id, voidReason: 'duplicate grant' });
      expect(byId.get(a)).toMatchObject({ voidedAt: null, voidedBy: null, voidReason: null });

      const ledger = async (query: Record<string, string>, auth = u.auth) => {
        const res = await t.http.get('/api/credits/ledger').query(query).set(auth);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        return res.body.items as { kind: string; allocationId: string; amount: number; createdAt: string }[];
      };
      expect((await ledger({})).map((e) => e.kind)).toEqual(['void', 'debit', 'grant', 'grant']);
      expect(await ledger({ kind: 'void' })).toEqual([expect.objectContaining({ allocationId: b, amount: -60 })]);
      expect((await ledger({ allocationId: a })).map((e) => e.kind)).toEqual(['debit', 'grant']);
      expect(await ledger({ userId: u.id, kind: 'grant', allocationId: b }, supervisor.auth)).toHaveLength(1);
      expect(await ledger({ from: '2000-01-01', to: '2000-12-31' })).toEqual([]);
      const today = new Date().toISOString().slice(0, 10);
      expect(await ledger({ from: today, to: today })).toHaveLength(4);
      // Another user's allocation id filters the caller's own ledger: nothing.
      const other = await f.newUser({ credits: 5 });
      expect(await ledger({ allocationId: other.allocationIds[0] })).toEqual([]);
      await t.http.get('/api/credits/ledger').query({ userId: other.id }).set(u.auth).expect(404);
      for (const query of [
        { kind: 'gift' },
        { allocationId: 'nope' },
        { from: '2026-13-01' },
        { from: today, to: '2001-01-01' },
      ]) {
        const res = await t.http.get('/api/credits/ledger').query(query).set(u.auth);
        expect(res.status, JSON.stringify(query)).toBe(400);
      }
    });
  });

  describe('GET /api/credits/summary', () => {
    it('sums this database’s rows as of the app’s clock', async () => {
      const ledgerTotals = async () =>
        (
          await t.db.query(
            `SELECT kind, -SUM(amount)::int AS out, SUM(amount)::int AS sum FROM credit_ledger GROUP BY kind`,
          )
        ).rows as { kind: string; out: number; sum: number }[];
      // Movements of today on top of what the tests above did: a grant expiring in 3 days, an expiry.
      const u = await f.newUser({ credits: [{ credits: 25, expiryDays: 3 }, 12] });
      await expireAllocationNow(t.db, u.allocationIds[1]);
      await t.app.get(CreditExpiryJob).expireDue();

      const kinds = new Map((await ledgerTotals()).map((k) => [k.kind, k]));
      const outOf = (...names: string[]) => names.reduce((n, k) => n + (kinds.get(k)?.out ?? 0), 0);
      const { rows } = await t.db.query(
        `SELECT (SELECT COALESCE(SUM(remaining_credits), 0)::int FROM credit_allocations WHERE expires_at > now()) AS available,
                (SELECT COALESCE(SUM(outstanding), 0)::int FROM credit_holds WHERE settled_at IS NULL) AS held,
                (SELECT COALESCE(SUM(debt), 0)::int FROM credit_accounts) AS debt`,
      );
      expect(rows[0].held).toBe(10);
      expect(rows[0].debt).toBe(11);

      const res = await t.http.get('/api/credits/summary').set(admin.auth).expect(200);
      const today = new Date().toISOString().slice(0, 10);
      expect(res.body).toMatchObject({ available: rows[0].available, held: 10, debt: 11, expiringWithin7Days: 25 });
      expect(res.body.byDay).toHaveLength(30);
      expect(res.body.byDay[29]).toEqual({
        date: today,
        granted: kinds.get('grant')!.sum,
        spent: outOf('debit', 'hold', 'release', 'overdraft'),
        expired: 12,
        voided: 60,
      });
      expect(res.body.byDay[0].date).toBe(new Date(Date.now() - 29 * DAY).toISOString().slice(0, 10));
      expect(
        res.body.byDay.slice(0, 29).every((d: { granted: number; spent: number }) => d.granted + d.spent === 0),
      ).toBe(true);

      // Ten days on: today's movements are ten days back; the 3-day grant has expired.
      const clock = freezeClock(t);
      clock.advance(10 * DAY);
      const later = await t.http.get('/api/credits/summary').set(admin.auth).expect(200);
      expect(later.body.byDay[29].date).toBe(new Date(Date.now() + 10 * DAY).toISOString().slice(0, 10));
      expect(later.body.byDay[19]).toEqual(res.body.byDay[29]);
      expect(later.body.available).toBe(rows[0].available - 25);
      expect(later.body.expiringWithin7Days).toBe(0);
      // Thirty days on, today has left the window.
      clock.advance(20 * DAY);
      const gone = await t.http.get('/api/credits/summary').set(admin.auth).expect(200);
      expect(gone.body.byDay.every((d: { granted: number }) => d.granted === 0)).toBe(true);

      await t.http.get('/api/credits/summary').set(supervisor.auth).expect(403);
      await t.http.get('/api/credits/summary').set(user.auth).expect(403);
    });
  });
});
