import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AccountIds } from '../src/accounts/account-ids.js';
import { ACCOUNT_ACCESS, type AccountAccess, type ResolvedAccount } from '../src/auth/account-access.js';
import type { AuthUser } from '../src/auth/roles.js';
import { Transactions } from '../src/database/transactions.js';
import { EntitlementsService } from '../src/features/entitlements.service.js';
import { type CheckQuery, type CheckRow, FeaturesRepository } from '../src/features/features.repository.js';
import { bearer, startTestApp, type TestApp } from './support/app.js';
import { featureKey, Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';

/**
 * Checks that arrive together, in one statement (docs/features.md "Checks that arrive together"): the
 * statement itself given several checks of one account (never past the limit, each in its order, a
 * refused one counting nothing, the same eventId twice consuming once, the limit's event once), two
 * such statements on two instances locking the same accounts in opposite orders, and one check whose
 * statement fails leaving the others it was sent with answered as alone, each counted once.
 */
describe('feature checks that share a statement', () => {
  let t: TestApp;
  let t2: TestApp;
  let f: Fixtures;
  const admin = bearer(tokenFor('admin', 'ftog-admin'));
  const supervisor = bearer(tokenFor('supervisor', 'ftog-sup'));

  beforeAll(async () => {
    [t, t2] = await Promise.all([startTestApp(), startTestApp()]);
    f = new Fixtures(t, { prefix: 'ftog' });
  });
  afterAll(async () => {
    await Promise.all([t?.close(), t2?.close()]);
  });

  const key = featureKey;
  async function metered(userIds: string[], grant: { limit: number; period: string }): Promise<string> {
    const featureKey = key('f.tog');
    expect(
      (await t.http.post('/api/features').set(admin).send({ featureKey, name: 'Together', type: 'metered' })).status,
    ).toBe(201);
    for (const userId of userIds)
      expect((await t.http.put(`/api/entitlements/${featureKey}`).set(supervisor).send({ userId, grant })).status).toBe(
        200,
      );
    return featureKey;
  }
  /** A check naming its owner; `statement` resolves the owner to its account id, as the service does. */
  type OwnerCheck = Omit<CheckQuery, 'accountId'> & { account: Pick<ResolvedAccount, 'kind' | 'ownerId'> };
  const q = (user: FixtureUser | string, featureKey: string, consume: number | null, eventId: string | null = null) =>
    ({
      account: { kind: 'user' as const, ownerId: typeof user === 'string' ? user : user.id },
      featureKey,
      consume,
      eventId,
      at: new Date(),
    }) satisfies OwnerCheck;
  /** One statement carrying these checks, on instance `app`. */
  const statement = async (items: OwnerCheck[], app = t): Promise<(CheckRow | null)[]> => {
    const manager = app.app.get(Transactions).statementManager;
    const ids = await app.app.get(AccountIds).ofMany(
      manager,
      items.map((item) => item.account),
    );
    return app.app.get(FeaturesRepository).checks(
      manager,
      items.map(({ account: _owner, ...item }, i) => ({ ...item, accountId: ids[i] })),
    );
  };
  const counted = async (userId: string, featureKey: string): Promise<number> => {
    const { rows } = await t.db.query(
      `SELECT COALESCE(sum(spent), 0)::int AS n FROM credit_cap_spend
        WHERE subject_kind = 'feature' AND subject_id = $1 AND account_id = (SELECT account_id FROM accounts WHERE user_id = $2)`,
      [featureKey, userId],
    );
    return rows[0].n;
  };

  it('never consumes past the limit in one statement: each in its order, a refusal counting nothing', async () => {
    const user = await f.newUser();
    const featureKey = await metered([user.id], { limit: 3, period: 'day' });
    const rows = await statement([...Array.from({ length: 8 }, () => q(user, featureKey, 1))]);
    expect(rows.map((r) => r?.consumed)).toEqual([
      ...[1, 2, 3].map((used) => ({ allowed: true, used, limit: 3, replayed: false })),
      ...Array.from({ length: 5 }, () => ({ allowed: false, used: 3, limit: 3, replayed: false })),
    ]);
    expect(await counted(user.id, featureKey)).toBe(3);

    // A refused check between two allowed ones counts nothing; the one after it still fits.
    const other = await f.newUser();
    const second = await metered([other.id], { limit: 3, period: 'day' });
    const mixed = await statement([q(other, second, 2), q(other, second, 2), q(other, second, 1)]);
    expect(mixed.map((r) => r?.consumed)).toEqual([
      { allowed: true, used: 2, limit: 3, replayed: false },
      { allowed: false, used: 2, limit: 3, replayed: false },
      { allowed: true, used: 3, limit: 3, replayed: false },
    ]);
    expect(await counted(other.id, second)).toBe(3);
  });

  it('the same eventId twice in one statement consumes once; another feature’s is its own', async () => {
    const user = await f.newUser();
    const [a, b] = [
      await metered([user.id], { limit: 10, period: 'month' }),
      await metered([user.id], { limit: 10, period: 'month' }),
    ];
    const rows = await statement([
      q(user, a, 2, 'evt-1'),
      q(user, a, 2, 'evt-1'),
      q(user, a, 5, 'evt-1'),
      q(user, a, 1, 'evt-2'),
      q(user, b, 3, 'evt-1'),
    ]);
    expect(rows.map((r) => r?.consumed)).toEqual([
      { allowed: true, used: 2, limit: 10, replayed: false },
      { allowed: true, used: 2, limit: 10, replayed: true },
      { allowed: true, used: 2, limit: 10, replayed: true },
      { allowed: true, used: 3, limit: 10, replayed: false },
      { allowed: true, used: 3, limit: 10, replayed: false },
    ]);
    expect(await counted(user.id, a)).toBe(3);
    expect(await counted(user.id, b)).toBe(3);

    // Through the route's coalescer: the same eventId sent together answers one answer, counted once.
    const service = t.app.get(EntitlementsService);
    const caller: AuthUser = { userId: user.id, role: 'user', email: null, username: null, via: 'jwt' };
    // The caller's own account, as the access guard resolves it for the route.
    const own = await t.app.get<AccountAccess>(ACCOUNT_ACCESS).own(caller);
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => service.check(caller, own, { featureKey: a, consume: 4, eventId: 'evt-3' })),
    );
    expect(answers).toEqual(answers.map(() => answers[0]));
    expect(answers[0]).toMatchObject({ allowed: true, used: 7, remaining: 3 });
    expect(await counted(user.id, a)).toBe(7);
  });

  it('sends the limit’s event once when one statement reaches it and goes on', async () => {
    const user = await f.newUser();
    const featureKey = await metered([user.id], { limit: 2, period: 'day' });
    const rows = await statement(Array.from({ length: 5 }, () => q(user, featureKey, 1)));
    expect(rows.filter((r) => r?.consumed?.allowed)).toHaveLength(2);
    const { rows: events } = await t.db.query(
      `SELECT data FROM events WHERE type = 'feature.limit_reached' AND data->>'featureKey' = $1`,
      [featureKey],
    );
    expect(events.map((e) => e.data)).toEqual([{ userId: user.id, featureKey, limit: 2, period: 'day' }]);
  });

  it('two instances’ statements over the same accounts in opposite orders never deadlock', async () => {
    const users = await Promise.all(Array.from({ length: 6 }, () => f.newUser()));
    const featureKey = await metered(
      users.map((u) => u.id),
      { limit: 1000, period: 'day' },
    );
    const forward = users.map((u) => q(u, featureKey, 1));
    const backward = [...forward].reverse();
    // No coalescer here to retry a statement alone: a deadlock would reject.
    const rounds = await Promise.all(
      Array.from({ length: 10 }, (_, i) => statement(i % 2 ? forward : backward, i % 4 < 2 ? t : t2)),
    );
    expect(rounds.flat().every((r) => r?.consumed?.allowed)).toBe(true);
    for (const u of users) expect(await counted(u.id, featureKey)).toBe(10);
  });

  it('a check whose statement fails fails alone: the others sent with it answer as alone, counted once', async () => {
    const user = await f.newUser();
    const good = await metered([user.id], { limit: 5, period: 'day' });
    const broken = await metered([user.id], { limit: 5, period: 'day' });
    // A grant no route writes (a limit that is not a number): its check's statement fails.
    await t.db.query(
      `UPDATE feature_overrides SET grant_value = '{"limit": "many", "period": "day"}'
        WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) AND feature_key = $2`,
      [user.id, broken],
    );
    const repo = t.app.get(FeaturesRepository);
    const sizes: number[] = [];
    const checks = repo.checks.bind(repo);
    repo.checks = (m, items) => {
      sizes.push(items.length);
      return checks(m, items);
    };
    const service = t.app.get(EntitlementsService);
    const caller: AuthUser = { userId: user.id, role: 'user', email: null, username: null, via: 'jwt' };
    // The caller's own account, as the access guard resolves it for the route.
    const own = await t.app.get<AccountAccess>(ACCOUNT_ACCESS).own(caller);
    const settled = await (async () => {
      try {
        return await Promise.allSettled([
          service.check(caller, own, { featureKey: good, consume: 1, eventId: 'g-1' }),
          service.check(caller, own, { featureKey: broken, consume: 1 }),
          service.check(caller, own, { featureKey: good, consume: 1 }),
          service.check(caller, own, { featureKey: good, consume: 1, eventId: 'g-1' }),
          service.check(caller, own, { featureKey: good, consume: 1 }),
        ]);
      } finally {
        repo.checks = checks;
      }
    })();
    // One statement with all five, refused as a whole; then each alone.
    expect(sizes[0]).toBe(5);
    expect(sizes.slice(1).sort()).toEqual([1, 1, 1, 1, 1]);
    expect(settled[1].status).toBe('rejected');
    const answers = [0, 2, 3, 4].map((i) => settled[i]);
    expect(answers.every((s) => s.status === 'fulfilled')).toBe(true);
    const values = answers.map((s) => (s as PromiseFulfilledResult<{ allowed: boolean; used: number }>).value);
    expect(values.every((v) => v.allowed)).toBe(true);
    // g-1 twice counts once: three uses in all, whatever order the lone statements ran in.
    expect(await counted(user.id, good)).toBe(3);
    expect(await counted(user.id, broken)).toBe(0);
    expect(values[0]).toEqual(values[2]);

    // Over HTTP the failing check is a 500 that shows no SQL; the good one next to it answers.
    const [bad, fine] = await Promise.all([
      t.http.post('/api/entitlements/check').set(user.auth).send({ featureKey: broken, consume: 1 }),
      t.http.post('/api/entitlements/check').set(user.auth).send({ featureKey: good, consume: 1 }),
    ]);
    expect(bad.status).toBe(500);
    expect(JSON.stringify(bad.body)).not.toMatch(/bigint|many|SELECT|credits_feature_consume|\.ts:/i);
    expect(fine.status).toBe(200);
    expect(fine.body).toMatchObject({ allowed: true, used: 4, remaining: 1 });
  });

  it('a check of an owner without an account answers alone as a missing account; the others as alone', async () => {
    const user = await f.newUser();
    const featureKey = await metered([user.id], { limit: 2, period: 'day' });
    const rows = await statement([
      q(user, featureKey, 1),
      q(`nobody-${key('x')}`, featureKey, 1),
      q(user, featureKey, 1),
    ]);
    expect(rows[1]).toBeNull();
    expect(rows[0]?.consumed).toMatchObject({ allowed: true, used: 1 });
    expect(rows[2]?.consumed).toMatchObject({ allowed: true, used: 2 });
  });
});
