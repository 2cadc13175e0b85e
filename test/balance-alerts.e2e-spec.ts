import { randomUUID } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp } from './support/app.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

const adminJwt = tokenFor('admin', 'balance-alerts-admin');

/**
 * balance.low and balance.depleted are sent once per threshold until a grant lifts the balance back
 * to it: a hold released by an abort gives the credits back without arming the alert again, so a
 * user cannot send them at will by holding and aborting. Prices: a model of this file at 1 credit per
 * 1k tokens, so 50,000 estimated tokens hold 60 credits.
 */
describe('balance alerts: once per threshold until a grant', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const model = `alerts-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    t = await startTestApp({ LOW_BALANCE_THRESHOLDS: '50', JOBS_ENABLED: 'false' });
    f = new Fixtures(t, { users, granter: adminJwt, prefix: 'alerts' });
    await t.http.post('/api/pricing').set(bearer(adminJwt)).send({ modelId: model, pricePer1kTokens: '1' }).expect(201);
  });
  afterAll(() => t.close());
  afterEach(() => expectInvariants(t, users));

  /** Holds 60 credits in a new session; answers its id. */
  const hold = async (u: FixtureUser) => {
    const res = await t.http
      .post('/api/streaming-sessions/initialize')
      .set(u.auth)
      .send({ modelId: model, estimatedTokens: 50_000 })
      .expect(201);
    expect(res.body.allocatedCredits).toBe(60);
    return res.body.sessionId as string;
  };
  const abort = (u: FixtureUser, sessionId: string) =>
    t.http.post('/api/streaming-sessions/abort').set(u.auth).send({ sessionId }).expect(200);
  const events = async (userId: string, type: string) =>
    (
      await t.db.query(`SELECT data FROM events WHERE user_id = $1 AND type = $2 ORDER BY created_at, id`, [
        userId,
        type,
      ])
    ).rows.map((r: { data: unknown }) => r.data);

  it('holding and aborting around a threshold sends balance.low once; a grant lifting the balance arms it', async () => {
    const u = await f.newUser({ credits: 100 });
    for (let i = 0; i < 3; i++) await abort(u, await hold(u)); // 100 → 40 → 100, three times
    expect(await events(u.id, 'balance.low')).toEqual([{ userId: u.id, threshold: 50, balance: 40 }]);

    // A grant that leaves the balance below the threshold does not arm it.
    const held = await hold(u); // 40
    await f.grant(u.id, 5); // 45
    await abort(u, held); // 105
    await abort(u, await hold(u)); // 45 → 105
    expect(await events(u.id, 'balance.low')).toHaveLength(1);

    // One that lifts it to the threshold or above does: the next crossing, by a spend, alerts again.
    await f.grant(u.id, 10); // 115
    await f.recordUsage(u, 70).expect(201); // 45
    expect(await events(u.id, 'balance.low')).toEqual([
      { userId: u.id, threshold: 50, balance: 40 },
      { userId: u.id, threshold: 50, balance: 45 },
    ]);
    await f.recordUsage(u, 44).expect(201); // 1: below it already, nothing new
    expect(await events(u.id, 'balance.low')).toHaveLength(2);
    expect(await events(u.id, 'balance.depleted')).toEqual([]);
  });

  it('balance.depleted likewise: once for holds that empty the balance, again after a grant', async () => {
    const u = await f.newUser({ credits: 60 });
    for (let i = 0; i < 3; i++) await abort(u, await hold(u)); // 60 → 0 → 60
    expect(await events(u.id, 'balance.depleted')).toEqual([{ userId: u.id }]);
    expect(await events(u.id, 'balance.low')).toEqual([{ userId: u.id, threshold: 50, balance: 0 }]);

    await f.grant(u.id, 1); // 61
    await f.recordUsage(u, 1).expect(201); // 60
    const held = await hold(u); // 0
    expect(await events(u.id, 'balance.depleted')).toHaveLength(2);
    expect(await events(u.id, 'balance.low')).toHaveLength(2);
    await abort(u, held);
    await abort(u, await hold(u));
    expect(await events(u.id, 'balance.depleted')).toHaveLength(2);
    expect(await events(u.id, 'balance.low')).toHaveLength(2);
  });

  it('spends through a batch and voids follow the same rule', async () => {
    const u = await f.newUser({ credits: [30, 40] });
    const admin = bearer(adminJwt);
    await t.http
      .put(`/api/credits/alerts/${u.id}`)
      .set(admin)
      .send({ thresholds: [50, 20] })
      .expect(200);
    const batch = async (...credits: number[]) => {
      const events = credits.map((c) => ({ eventId: randomUUID(), service: 's', operation: 'o', credits: c }));
      const res = await t.http.post('/api/usage/records/batch').set(u.auth).send({ events }).expect(200);
      expect(res.body.created).toBe(credits.length);
    };
    const low = async () =>
      (await events(u.id, 'balance.low'))
        .map((d) => `${(d as { threshold: number }).threshold}@${(d as { balance: number }).balance}`)
        .sort();

    await abort(u, await hold(u)); // 70 → 10 → 70: both thresholds alerted, then disarmed
    expect(await low()).toEqual(['20@10', '50@10']);
    await batch(15, 10); // 45: crosses 50 again
    // FIFO took the 25 from the first allocation: voiding the second (40) leaves 5, across 20 again.
    await t.http.post(`/api/credits/allocations/${u.allocationIds[1]}/void`).set(admin).send({}).expect(200);
    expect(await low()).toEqual(['20@10', '50@10']);
    await batch(5); // 0
    expect(await events(u.id, 'balance.depleted')).toEqual([{ userId: u.id }]);

    // Armed by a grant, a void crossing the thresholds alerts (and empties the balance again).
    const granted = await f.grant(u.id, 100);
    await t.http.post(`/api/credits/allocations/${granted.id}/void`).set(admin).send({}).expect(200);
    expect(await low()).toEqual(['20@0', '20@10', '50@0', '50@10']);
    expect(await events(u.id, 'balance.depleted')).toHaveLength(2);
  });
});
