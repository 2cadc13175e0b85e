import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CLOCK, type Clock } from '../src/common/clock.js';
import { CreditCapEventIdsJob } from '../src/credits/limits/credit-cap-event-ids.job.js';
import { FeaturesRepository } from '../src/features/features.repository.js';
import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { featureKey, Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';

/**
 * Features and entitlement checks (docs/features.md): the catalogue, every grant shape and the wrong
 * ones, plan versus override, an org's grants for its member, the check's answers, reads as committed
 * after a revoke on another instance, and limits that hold under parallel checks on two instances.
 */
describe('features and entitlements', () => {
  let t: TestApp;
  let t2: TestApp;
  let f: Fixtures;
  const admin = bearer(tokenFor('admin', 'feat-admin'));
  const supervisor = bearer(tokenFor('supervisor', 'feat-sup'));

  beforeAll(async () => {
    [t, t2] = await Promise.all([startTestApp(), startTestApp()]);
    f = new Fixtures(t, { prefix: 'feat' });
  });
  afterAll(async () => {
    await Promise.all([t?.close(), t2?.close()]);
  });

  const key = featureKey;
  async function feature(type: 'boolean' | 'metered' | 'config', prefix: string = type): Promise<string> {
    const featureKey = key(`f.${prefix}`);
    const res = await t.http
      .post('/api/features')
      .set(admin)
      .send({ featureKey, name: `The ${type}`, type });
    expect(res.status).toBe(201);
    return featureKey;
  }
  const override = (featureKey: string, body: Record<string, unknown>, app = t) =>
    app.http.put(`/api/entitlements/${featureKey}`).set(supervisor).send(body);
  const check = (body: Record<string, unknown>, app = t, auth = admin) =>
    app.http.post('/api/entitlements/check').set(auth).send(body);
  async function plan(features: Record<string, unknown>): Promise<string> {
    const id = key('p').replace(/[._]/g, '-');
    const res = await t.http
      .post('/api/plans')
      .set(admin)
      .send({ id, name: id, credits: 10, period: 'month', features });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.features).toEqual(features);
    return id;
  }
  async function subscribe(user: FixtureUser, planId: string): Promise<void> {
    const res = await t.http.put(`/api/users/${user.id}/subscription`).set(admin).send({ planId });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }

  it('creates, lists and renames features; a taken key is 409, a bad key 400', async () => {
    const featureKey = await feature('metered');
    expect(
      (await t.http.post('/api/features').set(admin).send({ featureKey, name: 'x', type: 'boolean' })).body.code,
    ).toBe('FEATURE_EXISTS');
    for (const bad of ['Upper', 'a b', 'x'.repeat(65), ''])
      expect(
        (await t.http.post('/api/features').set(admin).send({ featureKey: bad, name: 'x', type: 'boolean' })).status,
      ).toBe(400);
    expect(
      (
        await t.http
          .post('/api/features')
          .set(admin)
          .send({ featureKey: key('f'), name: 'x', type: 'quota' })
      ).status,
    ).toBe(400);
    const renamed = await t.http.patch(`/api/features/${featureKey}`).set(admin).send({ name: 'Renamed' });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ featureKey, name: 'Renamed', type: 'metered' });
    expect(
      (await t.http.patch(`/api/features/${featureKey}`).set(admin).send({ name: 'x', type: 'config' })).status,
    ).toBe(400);
    expect((await t.http.patch('/api/features/no.such').set(admin).send({ name: 'x' })).status).toBe(404);
    const user = await f.newUser();
    const all: { featureKey: string }[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { items: { featureKey: string }[]; nextCursor: string | null } } =
        await t.http
          .get('/api/features')
          .query({ limit: 500, ...(cursor ? { cursor } : {}) })
          .set(user.auth);
      expect(page.status).toBe(200);
      all.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(all.find((x) => x.featureKey === featureKey)).toMatchObject({ name: 'Renamed', type: 'metered' });
  });

  it('validates names (1–100) on create and rename, and audits both', async () => {
    for (const name of ['', 'x'.repeat(101)]) {
      const res = await t.http
        .post('/api/features')
        .set(admin)
        .send({ featureKey: key('f.n'), name, type: 'boolean' });
      expect(res.status, name).toBe(400);
    }
    const featureKey = await feature('boolean', 'aud');
    for (const name of ['', 'x'.repeat(101)])
      expect((await t.http.patch(`/api/features/${featureKey}`).set(admin).send({ name })).status).toBe(400);
    expect((await t.http.patch(`/api/features/${featureKey}`).set(admin).send({})).status).toBe(400);
    // Only admins create and rename.
    expect((await t.http.patch(`/api/features/${featureKey}`).set(supervisor).send({ name: 'No' })).status).toBe(403);
    expect(
      (
        await t.http
          .patch(`/api/features/${featureKey}`)
          .set(admin)
          .send({ name: 'x'.repeat(100) })
      ).status,
    ).toBe(200);
    const { rows } = await t.db.query(
      `SELECT action, before, after FROM audit_log WHERE target_id = $1 AND action LIKE 'feature.%' ORDER BY at, id`,
      [featureKey],
    );
    expect(rows.map((r) => r.action)).toEqual(['feature.create', 'feature.update']);
    expect(rows[0]).toMatchObject({ before: null, after: { featureKey, name: 'The boolean', type: 'boolean' } });
    expect(rows[1]).toMatchObject({ before: { name: 'The boolean' }, after: { name: 'x'.repeat(100) } });
  });

  it('portal tokens list the features and their own account’s entitlements, no other account’s', async () => {
    const bool = await feature('boolean', 'portal');
    const user = await f.newUser();
    const other = await f.newUser();
    await override(bool, { userId: user.id, grant: true });
    const session = await t.http.post('/api/portal/sessions').set(admin).send({ userId: user.id });
    expect(session.status, JSON.stringify(session.body)).toBe(201);
    for (const scope of ['full', 'read']) {
      const minted =
        scope === 'full'
          ? session
          : await t.http.post('/api/portal/sessions').set(admin).send({ userId: user.id, scope });
      const portal = bearer(minted.body.token as string);
      const all: { featureKey: string }[] = [];
      let cursor: string | null = null;
      do {
        const page: { status: number; body: { items: { featureKey: string }[]; nextCursor: string | null } } =
          await t.http
            .get('/api/features')
            .query({ limit: 500, ...(cursor ? { cursor } : {}) })
            .set(portal);
        expect(page.status, scope).toBe(200);
        all.push(...page.body.items);
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(all.some((x) => x.featureKey === bool)).toBe(true);
      let mine: { status: number; body: { items: { featureKey: string }[]; nextCursor: string | null } };
      let found: unknown;
      cursor = null;
      do {
        mine = await t.http
          .get('/api/entitlements')
          .query({ limit: 500, ...(cursor ? { cursor } : {}) })
          .set(portal);
        expect(mine.status, scope).toBe(200);
        found = found ?? mine.body.items.find((x) => x.featureKey === bool);
        cursor = mine.body.nextCursor;
      } while (cursor);
      expect(found).toMatchObject({ grant: true, source: 'override' });
      expect((await t.http.get('/api/entitlements').query({ userId: user.id, limit: 1 }).set(portal)).status).toBe(200);
      expect((await t.http.get('/api/entitlements').query({ userId: other.id }).set(portal)).status).toBe(404);
    }
    // A user reads their own list, not another's; staff read any.
    expect((await t.http.get('/api/entitlements').query({ userId: other.id }).set(user.auth)).status).toBe(404);
    expect((await t.http.get('/api/entitlements').query({ userId: user.id }).set(supervisor)).status).toBe(200);
    expect(
      (await t.http.get('/api/entitlements').query({ userId: user.id, orgId: 'some-org' }).set(supervisor)).status,
    ).toBe(400);
  });

  it('takes every grant shape of its type and refuses the others (400 GRANT_INVALID), on overrides and plans', async () => {
    const bool = await feature('boolean');
    const metered = await feature('metered');
    const config = await feature('config');
    const user = await f.newUser();
    const ok: [string, unknown][] = [
      [bool, true],
      [bool, false],
      [metered, { limit: 0, period: 'day' }],
      [metered, { limit: 5, period: 'week' }],
      [metered, { limit: 5, period: 'month' }],
      [metered, { limit: 2147483647, period: 'lifetime' }],
      [config, { value: 200000 }],
      [config, { value: { models: ['a', 'b'], depth: 3 } }],
      [config, { value: 'x'.repeat(1000) }],
    ];
    for (const [featureKey, grant] of ok) {
      const res = await override(featureKey, { userId: user.id, grant });
      expect(res.status, JSON.stringify([featureKey, grant, res.body])).toBe(200);
      expect(res.body).toMatchObject({ featureKey, grant, source: 'override' });
    }
    const wrong: [string, unknown][] = [
      [bool, { limit: 5, period: 'day' }],
      [bool, { value: true }],
      [metered, true],
      [metered, { value: 5 }],
      [metered, { limit: -1, period: 'day' }],
      [metered, { limit: 1.5, period: 'day' }],
      [metered, { limit: 5, period: 'year' }],
      [metered, { limit: 5 }],
      [metered, { limit: 5, period: 'day', extra: 1 }],
      [config, false],
      [config, { limit: 5, period: 'day' }],
      [config, { value: 'x'.repeat(1100) }],
      [config, {}],
      [config, 'text'],
    ];
    for (const [featureKey, grant] of wrong) {
      const res = await override(featureKey, { userId: user.id, grant });
      expect(res.status, JSON.stringify([featureKey, grant, res.body])).toBe(400);
      const bad = await t.http
        .post('/api/plans')
        .set(admin)
        .send({
          id: key('p').replace(/[._]/g, '-'),
          name: 'p',
          credits: 1,
          period: 'month',
          features: { [featureKey]: grant },
        });
      expect(bad.status, JSON.stringify([featureKey, grant, bad.body])).toBe(400);
    }
    // The type checks (not the shape alone) answer GRANT_INVALID.
    expect((await override(bool, { userId: user.id, grant: { limit: 5, period: 'day' } })).body.code).toBe(
      'GRANT_INVALID',
    );
    expect((await override(metered, { userId: user.id })).status).toBe(400);
    expect((await override(metered, { grant: true })).status).toBe(400);
    expect((await override('no.such', { userId: user.id, grant: true })).status).toBe(404);
    expect((await override(bool, { userId: 'nobody-' + key('x'), grant: true })).status).toBe(404);
    const unknown = await t.http
      .post('/api/plans')
      .set(admin)
      .send({
        id: key('p').replace(/[._]/g, '-'),
        name: 'p',
        credits: 1,
        period: 'month',
        features: { 'no.such': true },
      });
    expect(unknown.body.code).toBe('GRANT_INVALID');
    // A user may not set their own override.
    expect(
      (await t.http.put(`/api/entitlements/${bool}`).set(user.auth).send({ userId: user.id, grant: true })).status,
    ).toBe(403);
  });

  it('answers each type: boolean, metered, config; unknown features; consume on a non-metered one is 400', async () => {
    const bool = await feature('boolean');
    const metered = await feature('metered');
    const config = await feature('config');
    const user = await f.newUser();
    const planId = await plan({
      [bool]: true,
      [metered]: { limit: 3, period: 'day' },
      [config]: { value: { window: 200000 } },
    });
    expect((await check({ userId: user.id, featureKey: bool })).body).toEqual({
      featureKey: bool,
      type: 'boolean',
      allowed: false,
      reason: 'not_granted',
    });
    await subscribe(user, planId);
    expect((await check({ userId: user.id, featureKey: bool })).body).toEqual({
      featureKey: bool,
      type: 'boolean',
      allowed: true,
    });
    expect((await check({ userId: user.id, featureKey: config })).body).toEqual({
      featureKey: config,
      type: 'config',
      allowed: true,
      value: { window: 200000 },
    });
    const m = await check({ userId: user.id, featureKey: metered });
    expect(m.body).toMatchObject({
      featureKey: metered,
      type: 'metered',
      allowed: true,
      limit: 3,
      used: 0,
      remaining: 3,
    });
    expect(Date.parse(m.body.resetsAt)).toBeGreaterThan(Date.now());
    expect((await check({ userId: user.id, featureKey: metered, consume: 2 })).body).toMatchObject({
      allowed: true,
      used: 2,
      remaining: 1,
    });
    const over = await check({ userId: user.id, featureKey: metered, consume: 2 });
    expect(over.body).toMatchObject({ allowed: false, reason: 'limit_reached', limit: 3, used: 2, remaining: 1 });
    expect((await check({ userId: user.id, featureKey: metered, consume: 1 })).body).toMatchObject({
      allowed: true,
      used: 3,
      remaining: 0,
    });
    expect((await check({ userId: user.id, featureKey: metered })).body).toMatchObject({
      allowed: false,
      reason: 'limit_reached',
      used: 3,
    });
    expect((await check({ userId: user.id, featureKey: 'no.such.feature' })).body).toEqual({
      featureKey: 'no.such.feature',
      type: null,
      allowed: false,
      reason: 'unknown_feature',
    });
    const notMetered = await check({ userId: user.id, featureKey: bool, consume: 1 });
    expect(notMetered.status).toBe(400);
    expect(notMetered.body.code).toBe('FEATURE_NOT_METERED');
    expect((await check({ userId: user.id, featureKey: metered, eventId: 'e1' })).status).toBe(400);
    expect((await check({ userId: user.id, featureKey: metered, consume: 0 })).status).toBe(400);
    expect((await check({ userId: user.id, featureKey: metered, consume: 1, eventId: '' })).status).toBe(400);
    // The list: every feature with grant, source and the period's use.
    const list = await t.http.get('/api/entitlements').query({ userId: user.id, limit: 500 }).set(user.auth);
    expect(list.status).toBe(200);
    const mine = (list.body.items as { featureKey: string }[]).filter((x) =>
      [bool, metered, config].includes(x.featureKey),
    );
    expect(mine).toHaveLength(3);
    expect(mine.find((x) => x.featureKey === metered)).toMatchObject({
      source: 'plan',
      used: 3,
      remaining: 0,
      grant: { limit: 3, period: 'day' },
    });
    expect(mine.find((x) => x.featureKey === bool)).toEqual({
      featureKey: bool,
      name: 'The boolean',
      type: 'boolean',
      grant: true,
      source: 'plan',
    });
  });

  it('an override wins over the plan, and removing it brings the plan’s grant back', async () => {
    const bool = await feature('boolean');
    const metered = await feature('metered');
    const user = await f.newUser();
    await subscribe(user, await plan({ [bool]: true, [metered]: { limit: 10, period: 'month' } }));
    expect((await check({ userId: user.id, featureKey: metered })).body.limit).toBe(10);
    await override(metered, { userId: user.id, grant: { limit: 2, period: 'month' } });
    await override(bool, { userId: user.id, grant: false });
    expect((await check({ userId: user.id, featureKey: metered })).body.limit).toBe(2);
    expect((await check({ userId: user.id, featureKey: bool })).body).toMatchObject({
      allowed: false,
      reason: 'not_granted',
    });
    const list = await t.http.get('/api/entitlements').query({ userId: user.id, limit: 500 }).set(supervisor);
    expect(list.body.items.find((x: { featureKey: string }) => x.featureKey === bool)).toMatchObject({
      grant: false,
      source: 'override',
    });
    const removed = await override(bool, { userId: user.id, grant: null });
    expect(removed.body).toMatchObject({ grant: true, source: 'plan' });
    expect((await check({ userId: user.id, featureKey: bool })).body.allowed).toBe(true);
    await override(metered, { userId: user.id, grant: null });
    expect((await check({ userId: user.id, featureKey: metered })).body.limit).toBe(10);
    // Audited with the account as target.
    const audit = await t.db.query(
      `SELECT action, target_type, target_id FROM audit_log WHERE action = 'entitlement.set' AND target_id = $1`,
      [user.id],
    );
    expect(audit.rows).toHaveLength(4);
    expect(audit.rows[0]).toMatchObject({ target_type: 'user' });
  });

  it('an org’s grants apply to a check naming the org, its member’s own to the member', async () => {
    const bool = await feature('boolean');
    const owner = await f.newUser();
    const member = await f.newUser();
    const outsider = await f.newUser();
    const orgId = key('org').replace(/[._]/g, '-').slice(0, 40);
    expect(
      (await t.http.post('/api/orgs').set(supervisor).send({ orgId, name: orgId, ownerUserId: owner.id })).status,
    ).toBe(201);
    expect(
      (await t.http.put(`/api/orgs/${orgId}/members/${member.id}`).set(owner.auth).send({ role: 'member' })).status,
    ).toBe(200);
    const planId = await plan({ [bool]: true });
    expect((await t.http.put(`/api/orgs/${orgId}/subscription`).set(admin).send({ planId })).status).toBe(200);
    // The member checks the org's account (JWT), and their own, which has no grant.
    expect((await check({ orgId, featureKey: bool }, t, member.auth)).body.allowed).toBe(true);
    expect((await check({ userId: member.id, featureKey: bool }, t, member.auth)).body).toMatchObject({
      allowed: false,
      reason: 'not_granted',
    });
    expect((await check({ orgId, featureKey: bool }, t, outsider.auth)).status).toBe(404);
    expect((await check({ userId: member.id, featureKey: bool }, t, outsider.auth)).status).toBe(404);
    // A key of the org (its member's, credits:read) checks the org's account without naming it.
    const orgKey = await t.http
      .post('/api/api-keys')
      .set(member.auth)
      .send({ name: 'k', permissions: ['credits:read'], orgId });
    expect(orgKey.status, JSON.stringify(orgKey.body)).toBe(201);
    expect(
      (await t.http.post('/api/entitlements/check').set('X-API-Key', orgKey.body.key).send({ featureKey: bool })).body
        .allowed,
    ).toBe(true);
    // An org override refuses it for the org.
    await override(bool, { orgId, grant: false });
    expect((await check({ orgId, featureKey: bool }, t, member.auth)).body.allowed).toBe(false);
    const list = await t.http.get('/api/entitlements').query({ orgId, limit: 500 }).set(member.auth);
    expect(list.body.items.find((x: { featureKey: string }) => x.featureKey === bool)).toMatchObject({
      grant: false,
      source: 'override',
    });
  });

  it('periods reset at the UTC day, Monday and month boundaries; lifetime never (the clock set)', async () => {
    const clock = t.app.get<Clock>(CLOCK);
    const wall = clock.now;
    try {
      const user = await f.newUser();
      const at = (iso: string) => (clock.now = () => Date.parse(iso));
      const cases: [string, string, string, string, string][] = [
        // period, last minute of a period, first of the next, the next's end, a later moment of the same period
        ['day', '2031-03-04T23:59:30Z', '2031-03-05T00:00:00Z', '2031-03-06T00:00:00.000Z', '2031-03-04T00:00:00Z'],
        ['week', '2031-03-09T23:59:59Z', '2031-03-10T00:00:01Z', '2031-03-17T00:00:00.000Z', '2031-03-03T00:00:00Z'],
        ['month', '2031-03-31T23:59:59Z', '2031-04-01T00:00:00Z', '2031-05-01T00:00:00.000Z', '2031-03-01T00:00:00Z'],
      ];
      for (const [period, last, next, nextEnd, start] of cases) {
        const metered = await feature('metered', period);
        await override(metered, { userId: user.id, grant: { limit: 2, period } });
        at(start);
        expect((await check({ userId: user.id, featureKey: metered, consume: 1 })).body).toMatchObject({
          allowed: true,
          used: 1,
        });
        at(last);
        expect((await check({ userId: user.id, featureKey: metered, consume: 1 })).body).toMatchObject({
          allowed: true,
          used: 2,
        });
        expect((await check({ userId: user.id, featureKey: metered, consume: 1 })).body).toMatchObject({
          allowed: false,
          used: 2,
        });
        at(next);
        const fresh = await check({ userId: user.id, featureKey: metered, consume: 1 });
        expect(fresh.body, period).toMatchObject({ allowed: true, used: 1, remaining: 1, resetsAt: nextEnd });
      }
      const lifetime = await feature('metered', 'life');
      await override(lifetime, { userId: user.id, grant: { limit: 1, period: 'lifetime' } });
      at('2031-01-01T00:00:00Z');
      expect((await check({ userId: user.id, featureKey: lifetime, consume: 1 })).body).toMatchObject({
        allowed: true,
        resetsAt: null,
      });
      at('2035-06-01T00:00:00Z');
      expect((await check({ userId: user.id, featureKey: lifetime, consume: 1 })).body).toMatchObject({
        allowed: false,
        used: 1,
        resetsAt: null,
      });
    } finally {
      clock.now = wall;
    }
  });

  it('200 parallel consuming checks against a limit of 50 on two instances consume exactly 50', async () => {
    const metered = await feature('metered', 'par');
    const user = await f.newUser();
    await override(metered, { userId: user.id, grant: { limit: 50, period: 'day' } });
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        check({ userId: user.id, featureKey: metered, consume: 1 }, i % 2 ? t : t2),
      ),
    );
    expect(answers.every((r) => r.status === 200)).toBe(true);
    expect(answers.filter((r) => r.body.allowed)).toHaveLength(50);
    expect(answers.filter((r) => r.body.reason === 'limit_reached')).toHaveLength(150);
    const useds = answers.filter((r) => r.body.allowed).map((r) => r.body.used as number);
    expect(new Set(useds).size).toBe(50);
    expect((await check({ userId: user.id, featureKey: metered }, t2)).body).toMatchObject({ used: 50, remaining: 0 });
  });

  it('checks that arrive together share a statement, each answered as it would be alone', async () => {
    const metered = await feature('metered', 'tog');
    const bool = await feature('boolean', 'tog');
    const users = await Promise.all(Array.from({ length: 8 }, () => f.newUser()));
    for (const u of users) await override(metered, { userId: u.id, grant: { limit: 3, period: 'day' } });
    await override(bool, { userId: users[0].id, grant: true });
    const repo = t.app.get(FeaturesRepository);
    const sizes: number[] = [];
    const checks = repo.checks.bind(repo);
    repo.checks = (m, items) => {
      sizes.push(items.length);
      return checks(m, items);
    };
    try {
      const stranger = bearer(tokenFor('user', uniqueId('feat-newcomer')));
      const answers = await Promise.all([
        // Five consuming checks of each user against a limit of 3, with their own tokens.
        ...users.flatMap((u) =>
          Array.from({ length: 5 }, () =>
            check({ featureKey: metered, consume: 1 }, t, bearer(tokenFor('user', u.id))),
          ),
        ),
        check({ featureKey: bool, consume: 1 }, t, bearer(tokenFor('user', users[0].id))),
        check({ featureKey: 'f.nothing-by-this-key', consume: 1 }, t, bearer(tokenFor('user', users[1].id))),
        check({ featureKey: metered, consume: 1 }, t, stranger),
        check({ featureKey: bool }, t, bearer(tokenFor('user', users[0].id))),
      ]);
      const [notMetered, unknown, newcomer, flag] = answers.slice(-4);
      expect(notMetered.status).toBe(400);
      expect(notMetered.body.code).toBe('FEATURE_NOT_METERED');
      expect(unknown.body).toEqual({
        featureKey: 'f.nothing-by-this-key',
        type: null,
        allowed: false,
        reason: 'unknown_feature',
      });
      // A caller first seen now: nothing granted, as alone.
      expect(newcomer.status, JSON.stringify(newcomer.body)).toBe(200);
      expect(newcomer.body).toMatchObject({ allowed: false, reason: 'not_granted' });
      expect(flag.body).toEqual({ featureKey: bool, type: 'boolean', allowed: true });
      users.forEach((u, i) => {
        const mine = answers.slice(i * 5, i * 5 + 5);
        expect(mine.every((r) => r.status === 200)).toBe(true);
        // Each account's uses in their order of arrival: 1, 2, 3, then refused.
        expect(
          mine
            .filter((r) => r.body.allowed)
            .map((r) => r.body.used as number)
            .sort(),
        ).toEqual([1, 2, 3]);
        expect(mine.filter((r) => r.body.reason === 'limit_reached')).toHaveLength(2);
      });
      expect(Math.max(...sizes)).toBeGreaterThan(1);
    } finally {
      repo.checks = checks;
    }
    for (const u of users)
      expect((await check({ userId: u.id, featureKey: metered })).body).toMatchObject({ used: 3, remaining: 0 });
  });

  it('a repeated eventId answers the first answer and consumes once, also in parallel', async () => {
    const metered = await feature('metered', 'evt');
    const user = await f.newUser();
    await override(metered, { userId: user.id, grant: { limit: 5, period: 'month' } });
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        check({ userId: user.id, featureKey: metered, consume: 2, eventId: 'gen-1' }, i % 2 ? t : t2),
      ),
    );
    expect(answers.map((r) => r.body)).toEqual(answers.map(() => answers[0].body));
    expect(answers[0].body).toMatchObject({ allowed: true, used: 2 });
    expect((await check({ userId: user.id, featureKey: metered, consume: 2, eventId: 'gen-2' })).body).toMatchObject({
      used: 4,
    });
    // Refused first: the repeat is refused too, even once room is made.
    expect((await check({ userId: user.id, featureKey: metered, consume: 2, eventId: 'gen-3' })).body).toMatchObject({
      allowed: false,
    });
    await override(metered, { userId: user.id, grant: { limit: 100, period: 'month' } });
    expect((await check({ userId: user.id, featureKey: metered, consume: 2, eventId: 'gen-3' })).body).toMatchObject({
      allowed: false,
      limit: 5,
    });
    expect((await check({ userId: user.id, featureKey: metered })).body).toMatchObject({ used: 4, limit: 100 });
    // Per account: another user's gen-1 is theirs.
    const other = await f.newUser();
    await override(metered, { userId: other.id, grant: { limit: 5, period: 'month' } });
    expect((await check({ userId: other.id, featureKey: metered, consume: 1, eventId: 'gen-1' })).body).toMatchObject({
      used: 1,
    });
  });

  it('an eventId is per feature too, 1–100 characters, and kept 35 days (the clock set)', async () => {
    const [a, b] = [await feature('metered', 'evf'), await feature('metered', 'evf')];
    const user = await f.newUser();
    for (const k of [a, b]) await override(k, { userId: user.id, grant: { limit: 100, period: 'lifetime' } });
    expect((await check({ userId: user.id, featureKey: a, consume: 1, eventId: 'same' })).body).toMatchObject({
      used: 1,
    });
    expect((await check({ userId: user.id, featureKey: b, consume: 1, eventId: 'same' })).body).toMatchObject({
      used: 1,
    });
    expect((await check({ userId: user.id, featureKey: a, consume: 1, eventId: 'x'.repeat(100) })).status).toBe(200);
    for (const body of [
      { consume: 1, eventId: 'x'.repeat(101) },
      { consume: 1, eventId: 7 },
      { consume: 1.5 },
      { consume: 2147483648 },
      { consume: '1' },
      { consume: 1, orgId: 'some-org' },
    ])
      expect((await check({ userId: user.id, featureKey: a, ...body })).status, JSON.stringify(body)).toBe(400);
    expect((await check({ userId: user.id, featureKey: 'Not A Key' })).status).toBe(400);
    expect((await check({ userId: user.id, featureKey: a })).body).toMatchObject({ used: 2 });

    // Kept 35 days: an id of 34 days ago still answers its first answer; one of 36 days ago is gone
    // once the hourly job has run, and counts again.
    const clock = t.app.get<Clock>(CLOCK);
    const wall = clock.now;
    const DAY = 86_400_000;
    try {
      clock.now = () => wall() - 36 * DAY;
      expect((await check({ userId: user.id, featureKey: a, consume: 1, eventId: 'old' })).body.used).toBe(3);
      clock.now = () => wall() - 34 * DAY;
      expect((await check({ userId: user.id, featureKey: a, consume: 1, eventId: 'recent' })).body.used).toBe(4);
    } finally {
      clock.now = wall;
    }
    await t.app.get(CreditCapEventIdsJob).cleanup();
    expect((await check({ userId: user.id, featureKey: a, consume: 1, eventId: 'recent' })).body.used).toBe(4);
    expect((await check({ userId: user.id, featureKey: a, consume: 1, eventId: 'old' })).body.used).toBe(5);
    expect((await check({ userId: user.id, featureKey: a, consume: 1, eventId: 'same' })).body.used).toBe(1);
  });

  it('a plan change that has answered on one instance applies to every check on the other at once', async () => {
    const bool = await feature('boolean', 'pch');
    const metered = await feature('metered', 'pch');
    const config = await feature('config', 'pch');
    const user = await f.newUser();
    const planId = await plan({ [bool]: true, [metered]: { limit: 1000, period: 'day' }, [config]: { value: 1 } });
    await subscribe(user, planId);
    expect((await check({ userId: user.id, featureKey: bool }, t2)).body.allowed).toBe(true);
    expect((await check({ userId: user.id, featureKey: metered, consume: 1 }, t2)).body.allowed).toBe(true);
    expect((await check({ userId: user.id, featureKey: config }, t2)).body.value).toBe(1);
    // The plan's grants changed on t: t2's next checks answer by the new ones.
    const patched = await t.http
      .patch(`/api/plans/${planId}`)
      .set(admin)
      .send({ features: { [metered]: { limit: 1, period: 'day' }, [config]: { value: 2 } } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    const after = await Promise.all([
      ...Array.from({ length: 5 }, () => check({ userId: user.id, featureKey: bool }, t2)),
      ...Array.from({ length: 5 }, () => check({ userId: user.id, featureKey: metered, consume: 1 }, t2)),
      check({ userId: user.id, featureKey: config }, t2),
    ]);
    expect(after.slice(0, 10).filter((r) => r.body.allowed)).toHaveLength(0);
    expect(after[5].body).toMatchObject({ reason: 'limit_reached', limit: 1 });
    expect(after[10].body.value).toBe(2);
    // Another plan for the user, then none: the subscription's change applies at once as well.
    const other = await plan({ [bool]: true });
    await subscribe(user, other);
    expect((await check({ userId: user.id, featureKey: bool }, t2)).body.allowed).toBe(true);
    expect((await t.http.delete(`/api/users/${user.id}/subscription`).set(admin)).status).toBeLessThan(300);
    expect((await check({ userId: user.id, featureKey: bool }, t2)).body).toMatchObject({
      allowed: false,
      reason: 'not_granted',
    });
  });

  it('a revoke that has answered on one instance refuses every check on the other at once', async () => {
    const bool = await feature('boolean', 'rev');
    const metered = await feature('metered', 'rev');
    for (let round = 0; round < 3; round++) {
      const user = await f.newUser();
      await subscribe(user, await plan({ [bool]: true, [metered]: { limit: 1000, period: 'day' } }));
      // Warm both instances with allowed checks first.
      expect((await check({ userId: user.id, featureKey: bool }, t2)).body.allowed).toBe(true);
      expect((await check({ userId: user.id, featureKey: metered, consume: 1 }, t2)).body.allowed).toBe(true);
      expect((await override(bool, { userId: user.id, grant: false }, t)).status).toBe(200);
      expect((await override(metered, { userId: user.id, grant: { limit: 0, period: 'day' } }, t)).status).toBe(200);
      const after = await Promise.all([
        ...Array.from({ length: 10 }, () => check({ userId: user.id, featureKey: bool }, t2)),
        ...Array.from({ length: 10 }, () => check({ userId: user.id, featureKey: metered, consume: 1 }, t2)),
      ]);
      expect(after.filter((r) => r.body.allowed)).toHaveLength(0);
    }
  });

  it('sends feature.limit_reached (webhook event and email) once per period', async () => {
    const clock = t.app.get<Clock>(CLOCK);
    const wall = clock.now;
    try {
      const metered = await feature('metered', 'lim');
      const user = await f.newUser();
      clock.now = () => Date.parse('2032-05-10T10:00:00Z');
      await override(metered, { userId: user.id, grant: { limit: 2, period: 'day' } });
      const events = async () =>
        (
          await t.db.query(
            `SELECT id, data FROM events WHERE type = 'feature.limit_reached' AND data->>'featureKey' = $1`,
            [metered],
          )
        ).rows as { id: string; data: Record<string, unknown> }[];
      await check({ userId: user.id, featureKey: metered, consume: 1 });
      expect(await events()).toHaveLength(0);
      await check({ userId: user.id, featureKey: metered, consume: 1 });
      expect((await events()).map((e) => e.data)).toEqual([
        { userId: user.id, featureKey: metered, limit: 2, period: 'day' },
      ]);
      await check({ userId: user.id, featureKey: metered, consume: 1 });
      // Raised and reached again the same day: no second event.
      await override(metered, { userId: user.id, grant: { limit: 3, period: 'day' } });
      expect((await check({ userId: user.id, featureKey: metered, consume: 1 })).body).toMatchObject({
        allowed: true,
        used: 3,
      });
      expect(await events()).toHaveLength(1);
      // The next day's period sends its own.
      clock.now = () => Date.parse('2032-05-11T10:00:00Z');
      await check({ userId: user.id, featureKey: metered, consume: 3 });
      const sent = await events();
      expect(sent).toHaveLength(2);
      const emails = await t.db.query(
        `SELECT user_id, kind FROM email_notifications WHERE event_id = ANY($1::uuid[])`,
        [sent.map((e) => e.id)],
      );
      expect(emails.rows).toEqual(expect.arrayContaining([{ user_id: user.id, kind: 'feature.limit_reached' }]));
      expect(emails.rows).toHaveLength(2);
    } finally {
      clock.now = wall;
    }
  });

  it('an org’s feature.limit_reached names the org and emails its owners, once for parallel checks', async () => {
    const metered = await feature('metered', 'orglim');
    const owner = await f.newUser();
    const member = await f.newUser();
    const orgId = key('org').replace(/[._]/g, '-').slice(0, 40);
    expect(
      (await t.http.post('/api/orgs').set(supervisor).send({ orgId, name: orgId, ownerUserId: owner.id })).status,
    ).toBe(201);
    expect(
      (await t.http.put(`/api/orgs/${orgId}/members/${member.id}`).set(owner.auth).send({ role: 'member' })).status,
    ).toBe(200);
    await override(metered, { orgId, grant: { limit: 2, period: 'month' } });
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => check({ orgId, featureKey: metered, consume: 1 }, t, member.auth)),
    );
    expect(answers.filter((r) => r.body.allowed)).toHaveLength(2);
    // The member's own account has no grant of it: nothing counted there.
    expect((await check({ featureKey: metered, consume: 1 }, t, member.auth)).body).toMatchObject({
      allowed: false,
      reason: 'not_granted',
    });
    const { rows: events } = await t.db.query(
      `SELECT id, user_id, data FROM events WHERE type = 'feature.limit_reached' AND data->>'featureKey' = $1`,
      [metered],
    );
    expect(events.map((e) => e.data)).toEqual([
      { userId: null, orgId, featureKey: metered, limit: 2, period: 'month' },
    ]);
    const emails = await t.db.query(`SELECT user_id, kind FROM email_notifications WHERE event_id = $1`, [
      events[0].id,
    ]);
    expect(emails.rows).toEqual([{ user_id: owner.id, kind: 'feature.limit_reached' }]);
  });

  it('who may check: the user themself, a key with credits:read, a service key; not another user', async () => {
    const bool = await feature('boolean', 'who');
    const user = await f.newUser();
    const other = await f.newUser();
    await override(bool, { userId: user.id, grant: true });
    expect((await check({ userId: user.id, featureKey: bool }, t, user.auth)).body.allowed).toBe(true);
    expect((await check({ featureKey: bool }, t, user.auth)).body.allowed).toBe(true);
    expect((await check({ userId: user.id, featureKey: bool }, t, other.auth)).status).toBe(404);
    const readKey = await f.apiKey(user, { permissions: ['credits:read'] });
    expect(
      (await t.http.post('/api/entitlements/check').set('X-API-Key', readKey.key).send({ featureKey: bool })).body
        .allowed,
    ).toBe(true);
    const usageKey = await f.apiKey(user, { permissions: ['usage:read'] });
    expect(
      (await t.http.post('/api/entitlements/check').set('X-API-Key', usageKey.key).send({ featureKey: bool })).status,
    ).toBe(403);
    const svcOwner = bearer(tokenFor('admin', key('svc')));
    const svc = await t.http
      .post('/api/api-keys')
      .set(svcOwner)
      .send({ name: 'gw', permissions: ['usage:ingest'] });
    expect(svc.status, JSON.stringify(svc.body)).toBe(201);
    expect(
      (
        await t.http
          .post('/api/entitlements/check')
          .set('X-API-Key', svc.body.key)
          .send({ userId: user.id, featureKey: bool })
      ).body.allowed,
    ).toBe(true);
    expect((await check({ userId: 'ghost-' + key('g'), featureKey: bool })).status).toBe(404);
  });
});
