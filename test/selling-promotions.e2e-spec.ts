import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { freezeClock } from './support/clock.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * Promotion codes (docs/selling.md): creation, windows, limits, eligibility, redemption by the user
 * or the service, one promotional allocation each; parallel redemptions never pass a limit.
 */
describe('promotion codes', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const admin = bearer(tokenFor('admin', 'promotions-admin'));
  const supervisor = bearer(tokenFor('supervisor', 'promotions-supervisor'));

  beforeAll(async () => {
    t = await startTestApp({ THROTTLE_LIMIT: '100000' });
    f = new Fixtures(t, { users, prefix: 'pr' });
  });
  afterAll(() => t.close());

  const code = () => `T-${uniqueId('').slice(2).toUpperCase()}`;
  const create = (body: Record<string, unknown> = {}) =>
    t.http
      .post('/api/promotions')
      .set(admin)
      .send({ code: code(), credits: 500, expiryDays: 30, ...body });
  const redeem = (who: { Authorization: string } | Record<string, string>, body: Record<string, unknown>) =>
    t.http.post('/api/promotions/redeem').set(who).send(body);
  const allocations = async (c: string) =>
    (
      await t.db.query(
        `SELECT a.source, a.total_credits, a.account_id FROM promotion_redemptions r
           JOIN credit_allocations a ON a.id = r.allocation_id WHERE r.code = $1`,
        [c],
      )
    ).rows;

  it('creates codes (admin), lists them and their redemptions (staff), switches them off', async () => {
    const c = code();
    const created = await create({ code: c.toLowerCase(), maxRedemptions: 3, perAccount: 2 }).expect(201);
    expect(created.body).toEqual({
      code: c,
      credits: 500,
      expiryDays: 30,
      startsAt: null,
      endsAt: null,
      maxRedemptions: 3,
      perAccount: 2,
      accounts: 'users',
      newAccountsWithinDays: null,
      active: true,
      redemptions: 0,
      createdAt: expect.any(String),
    });
    await create({ code: c.toLowerCase() })
      .expect(409)
      .expect((r) => expect(r.body.code).toBe('PROMOTION_EXISTS'));
    const u = await f.newUser();
    await t.http.post('/api/promotions').set(u.auth).send({ code: code(), credits: 1, expiryDays: 1 }).expect(403);
    await t.http.post('/api/promotions').set(supervisor).send({ code: code(), credits: 1, expiryDays: 1 }).expect(403);
    await t.http.get('/api/promotions').set(u.auth).expect(403);
    const list = await t.http.get('/api/promotions?limit=500').set(supervisor).expect(200);
    expect(list.body.items.map((p: { code: string }) => p.code)).toContain(c);

    const redeemed = await redeem(u.auth, { code: c.toLowerCase() }).expect(201);
    const redemptions = await t.http.get(`/api/promotions/${c.toLowerCase()}/redemptions`).set(supervisor).expect(200);
    expect(redemptions.body).toEqual({
      items: [
        {
          redemptionId: redeemed.body.redemptionId,
          code: c,
          allocationId: redeemed.body.allocationId,
          credits: 500,
          expiresAt: redeemed.body.expiresAt,
          userId: u.id,
          orgId: null,
          redeemedBy: u.id,
          createdAt: expect.any(String),
        },
      ],
      nextCursor: null,
    });
    await t.http.get('/api/promotions/NO-SUCH-CODE/redemptions').set(supervisor).expect(404);

    const off = await t.http.patch(`/api/promotions/${c}`).set(admin).send({ active: false }).expect(200);
    expect(off.body).toMatchObject({ active: false, redemptions: 1 });
    await t.http.patch(`/api/promotions/${c}`).set(supervisor).send({ active: true }).expect(403);
    await t.http.patch(`/api/promotions/${c}`).set(admin).send({}).expect(400);
    const audit = await t.db.query(`SELECT action FROM audit_log WHERE target_id = $1 ORDER BY at, id`, [c]);
    expect(audit.rows.map((r) => r.action)).toEqual(['promotion.create', 'promotion.update']);
  });

  it('refuses bad codes with a 400 and writes nothing', async () => {
    for (const body of [
      { code: 'ABC' },
      { code: 'A'.repeat(41) },
      { code: 'NO SPACE' },
      { code: 'ÄÖÜ-1234' },
      { credits: 0 },
      { expiryDays: 0 },
      { expiryDays: 3651 },
      { perAccount: 0 },
      { maxRedemptions: 0 },
      { accounts: 'teams' },
      { newAccountsWithinDays: 0 },
      { startsAt: '2027-02-30T00:00:00Z' },
      { startsAt: '2027-01-02T00:00:00Z', endsAt: '2027-01-01T00:00:00Z' },
      { extra: true },
    ]) {
      const res = await create(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    await redeem(admin, { code: 'ABC' }).expect(400);
    await redeem(admin, { code: 'ABCD', userId: 'a', orgId: 'abc' }).expect(400);
  });

  it('grants one promotional allocation per redemption, with promotion.redeemed', async () => {
    const c = code();
    await create({ code: c, credits: 700, expiryDays: 10, perAccount: 2 }).expect(201);
    const u = await f.newUser();
    const first = await redeem(u.auth, { code: c }).expect(201);
    expect(first.body).toEqual({
      redemptionId: expect.any(String),
      code: c,
      allocationId: expect.any(String),
      credits: 700,
      expiresAt: expect.any(String),
    });
    const days = (Date.parse(first.body.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(9.99);
    expect(days).toBeLessThanOrEqual(10);
    const { rows } = await t.db.query(
      `SELECT source, total_credits, remaining_credits, purchase_id FROM credit_allocations WHERE id = $1`,
      [first.body.allocationId],
    );
    expect(rows).toEqual([{ source: 'promotion', total_credits: 700, remaining_credits: 700, purchase_id: null }]);
    const ledger = await t.db.query(`SELECT kind, amount FROM credit_ledger WHERE allocation_id = $1`, [
      first.body.allocationId,
    ]);
    expect(ledger.rows).toEqual([{ kind: 'grant', amount: 700 }]);
    const event = await t.db.query(`SELECT data FROM events WHERE type = 'promotion.redeemed' AND data->>'code' = $1`, [
      c,
    ]);
    expect(event.rows.map((r) => r.data)).toEqual([
      {
        userId: u.id,
        code: c,
        redemptionId: first.body.redemptionId,
        allocationId: first.body.allocationId,
        credits: 700,
        expiresAt: first.body.expiresAt,
      },
    ]);
    await redeem(u.auth, { code: c }).expect(201);
    const third = await redeem(u.auth, { code: c }).expect(409);
    expect(third.body.code).toBe('PROMOTION_ALREADY_REDEEMED');
    expect((await t.http.get('/api/credits/balance').set(u.auth).expect(200)).body.totalCredits).toBe(1400);
    // A service principal names the user; an ordinary user may not name another.
    const other = await f.newUser();
    await redeem(u.auth, { code: c, userId: other.id })
      .expect(403)
      .expect((r) => expect(r.body.code).toBe('FORBIDDEN'));
    const serviceKey = await f.apiKey({ auth: admin }, { permissions: ['usage:ingest'] });
    const byService = await redeem({ 'X-API-Key': serviceKey.key }, { code: c, userId: other.id }).expect(201);
    const redemption = await t.db.query(`SELECT user_id, redeemed_by FROM promotion_redemptions WHERE id = $1`, [
      byService.body.redemptionId,
    ]);
    expect(redemption.rows).toEqual([{ user_id: other.id, redeemed_by: 'promotions-admin' }]);
    await expectInvariants(t, [u.id, other.id]);
  });

  it('answers one 404 for a code that is unknown, switched off, not started or ended', async () => {
    const off = code();
    await create({ code: off }).expect(201);
    await t.http.patch(`/api/promotions/${off}`).set(admin).send({ active: false }).expect(200);
    const later = code();
    await create({ code: later, startsAt: new Date(Date.now() + 86_400_000).toISOString() }).expect(201);
    const ended = code();
    await create({ code: ended, startsAt: '2020-01-01T00:00:00Z', endsAt: '2021-01-01T00:00:00Z' }).expect(201);
    const u = await f.newUser();
    const answers = [];
    for (const c of ['NO-SUCH-CODE', off, later, ended]) {
      const res = await redeem(u.auth, { code: c }).expect(404);
      answers.push(res.body);
      expect(JSON.stringify(res.body)).not.toContain(c);
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]).toMatchObject({ statusCode: 404, code: 'PROMOTION_NOT_FOUND' });
  });

  it('checks the kind and age of the account, and who may redeem for an org', async () => {
    const forOrgs = code();
    await create({ code: forOrgs, accounts: 'orgs' }).expect(201);
    const forNew = code();
    await create({ code: forNew, newAccountsWithinDays: 7 }).expect(201);
    const forAny = code();
    await create({ code: forAny, accounts: 'any', perAccount: 5 }).expect(201);
    const u = await f.newUser();
    await redeem(u.auth, { code: forOrgs })
      .expect(403)
      .expect((r) => expect(r.body.code).toBe('PROMOTION_NOT_ELIGIBLE'));
    await redeem(u.auth, { code: forNew }).expect(201);
    const old = await f.newUser();
    await t.db.query(`UPDATE user_accounts SET created_at = now() - interval '8 days' WHERE user_id = $1`, [old.id]);
    await redeem(old.auth, { code: forNew })
      .expect(403)
      .expect((r) => expect(r.body.code).toBe('PROMOTION_NOT_ELIGIBLE'));

    const org = uniqueId('prorg').toLowerCase();
    await t.http.post('/api/orgs').set(admin).send({ orgId: org, name: 'Promo', ownerUserId: u.id }).expect(201);
    const member = await f.newUser();
    await t.http.put(`/api/orgs/${org}/members/${member.id}`).set(u.auth).send({ role: 'member' }).expect(200);
    await redeem(member.auth, { code: forOrgs, orgId: org }).expect(403);
    // A write naming an org: a non-member is told NOT_A_MEMBER (403), as for an org that does not exist.
    expect((await redeem(old.auth, { code: forOrgs, orgId: org }).expect(403)).body.code).toBe('NOT_A_MEMBER');
    const owned = await redeem(u.auth, { code: forOrgs, orgId: org }).expect(201);
    await redeem(admin, { code: forAny, orgId: org }).expect(201);
    await redeem(admin, { code: forAny, userId: u.id }).expect(201);
    const orgAllocations = await t.db.query(
      `SELECT count(*)::int AS n FROM credit_allocations WHERE account_id = (SELECT account_id FROM accounts WHERE org_id = $1) AND source = 'promotion'`,
      [org],
    );
    expect(orgAllocations.rows[0].n).toBe(2);
    const event = await t.db.query(
      `SELECT data FROM events WHERE type = 'promotion.redeemed' AND data->>'redemptionId' = $1`,
      [owned.body.redemptionId],
    );
    expect(event.rows[0].data).toMatchObject({ userId: null, orgId: org, code: forOrgs, credits: 500 });
  });

  it('100 users redeeming a code limited to 10 at once: exactly 10 allocations', async () => {
    const c = code();
    await create({ code: c, credits: 50, maxRedemptions: 10 }).expect(201);
    const redeemers: FixtureUser[] = [];
    for (let i = 0; i < 100; i++) redeemers.push(await f.newUser());
    const results = await Promise.all(redeemers.map((u) => redeem(u.auth, { code: c })));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(results.filter((r) => r.status === 409).map((r) => r.body.code)).toEqual(
      Array(90).fill('PROMOTION_EXHAUSTED'),
    );
    expect(await allocations(c)).toHaveLength(10);
    const promotion = await t.db.query(`SELECT redemptions FROM promotions WHERE code = $1`, [c]);
    expect(promotion.rows[0].redemptions).toBe(10);
    await expectInvariants(
      t,
      redeemers.map((u) => u.id),
    );
  });

  it('one user redeeming 20 times at once with perAccount 1: one allocation', async () => {
    const c = code();
    await create({ code: c, credits: 50 }).expect(201);
    const u = await f.newUser();
    const results = await Promise.all(Array.from({ length: 20 }, () => redeem(u.auth, { code: c })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    // Refusals count against the guessing limit too: the first 10 say why, the other 9 are 429s.
    expect(results.filter((r) => r.status === 409).map((r) => r.body.code)).toEqual(
      Array(10).fill('PROMOTION_ALREADY_REDEEMED'),
    );
    expect(results.filter((r) => r.status === 429).map((r) => r.body.code)).toEqual(
      Array(9).fill('PROMOTION_FAILURE_LIMIT'),
    );
    expect(await allocations(c)).toHaveLength(1);
    expect((await t.http.get('/api/credits/balance').set(u.auth).expect(200)).body.totalCredits).toBe(50);
    await expectInvariants(t, [u.id]);
  });
});

describe('guessing promotion codes', () => {
  let t: TestApp;
  const admin = bearer(tokenFor('admin', 'promotions-guess-admin'));

  beforeAll(async () => {
    t = await startTestApp({ THROTTLE_LIMIT: '100000' });
  });
  afterAll(() => t.close());

  it('after 10 refusals within an hour: 429 until that hour ends, revealing no code', async () => {
    const clock = freezeClock(t);
    const valid = `G-${uniqueId('').slice(2).toUpperCase()}`;
    await t.http.post('/api/promotions').set(admin).send({ code: valid, credits: 5, expiryDays: 1 }).expect(201);
    const guesser = bearer(token({ sub: uniqueId('guesser') }));
    for (let i = 0; i < 10; i++) {
      await t.http
        .post('/api/promotions/redeem')
        .set(guesser)
        .send({ code: `GUESS-${i}` })
        .expect(404);
      clock.advance(60_000);
    }
    // Ten refusals in ten minutes: the hour that began with the first ends in 50 minutes.
    const blocked = await t.http.post('/api/promotions/redeem').set(guesser).send({ code: valid }).expect(429);
    expect(blocked.body).toMatchObject({ statusCode: 429, code: 'PROMOTION_FAILURE_LIMIT', retryAfter: 3000 });
    expect(blocked.headers['retry-after']).toBe('3000');
    expect(JSON.stringify(blocked.body)).not.toContain(valid);
    clock.advance(3_000_000 - 1000);
    await t.http.post('/api/promotions/redeem').set(guesser).send({ code: valid }).expect(429);
    clock.advance(1000);
    await t.http.post('/api/promotions/redeem').set(guesser).send({ code: valid }).expect(201);
    // Somebody else was never blocked.
    await t.http
      .post('/api/promotions/redeem')
      .set(bearer(token({ sub: uniqueId('other') })))
      .send({ code: valid })
      .expect(201);
  });

  it('a storm of guesses in parallel: 10 refusals answered, the rest 429, identical but for Retry-After', async () => {
    const guesser = bearer(token({ sub: uniqueId('storm') }));
    await t.http.get('/api/users/me').set(guesser).expect(200);
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        t.http
          .post('/api/promotions/redeem')
          .set(guesser)
          .send({ code: `STORM-${i}-${uniqueId('').slice(2)}` }),
      ),
    );
    expect(results.filter((r) => r.status === 404)).toHaveLength(10);
    const refused = results.filter((r) => r.status === 429);
    expect(refused).toHaveLength(30);
    for (const r of refused) {
      expect(r.body.code).toBe('PROMOTION_FAILURE_LIMIT');
      expect(JSON.stringify(r.body)).not.toMatch(/STORM/);
    }
  });
});
