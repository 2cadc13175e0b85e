import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PortalSessionsJob } from '../src/portal/portal-sessions.job.js';
import { PromotionFailuresJob } from '../src/promotions/promotion-failures.job.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';

/**
 * The security review's findings on promotions and portal sessions, each played again:
 * W7: a service key guessing promotion codes while naming another user at each guess was never
 * throttled (the refusals counted against the account named), nor was an org's account guessed at
 * by several of its managers; W13: `portal_sessions` and `promotion_failures` only grew.
 */
let t: TestApp;
const adminId = uniqueId('sfadmin');
const admin = bearer(token({ sub: adminId, role: 'admin' }));
let serviceKey: string;

async function newUser(prefix: string): Promise<{ id: string; auth: Record<string, string> }> {
  const id = uniqueId(prefix);
  const auth = bearer(token({ sub: id }));
  await t.http.get('/api/users/me').set(auth).expect(200);
  return { id, auth };
}

beforeAll(async () => {
  t = await startTestApp({ THROTTLE_LIMIT: '100000', PROMOTION_SERVICE_FAILURE_LIMIT: '5' });
  await t.http.get('/api/users/me').set(admin).expect(200);
  const created = await t.http
    .post('/api/api-keys')
    .set(admin)
    .send({ name: 'platform', permissions: ['usage:ingest'] })
    .expect(201);
  serviceKey = created.body.key as string;
}, 60_000);
afterAll(async () => {
  await t?.close();
});

describe('W7: promotion guessing is throttled per calling principal as well as per account', () => {
  it('a service key naming a new user at each guess: 429 after PROMOTION_SERVICE_FAILURE_LIMIT refusals', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const user = await newUser('w7victim');
      const res = await t.http
        .post('/api/promotions/redeem')
        .set('X-API-Key', serviceKey)
        .send({ code: `W7-GUESS-${i}-${uniqueId('').slice(2).toUpperCase()}`, userId: user.id });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.body.code).toBe('PROMOTION_FAILURE_LIMIT');
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(3000);
      }
    }
    expect(statuses).toEqual([404, 404, 404, 404, 404, 429, 429]);
    // The users named were not blocked by the key's guessing: each redeems a real code itself.
    const code = `W7-REAL-${uniqueId('').slice(2).toUpperCase()}`;
    await t.http.post('/api/promotions').set(admin).send({ code, credits: 5, expiryDays: 1 }).expect(201);
    const bystander = await newUser('w7bystander');
    await t.http.post('/api/promotions/redeem').set(bystander.auth).send({ code }).expect(201);
  });

  it("an org's account guessed at by two of its managers: 429 for the org after 10 refusals", async () => {
    const owner = await newUser('w7owner');
    const second = await newUser('w7second');
    const orgId = uniqueId('w7org').toLowerCase();
    await t.http.post('/api/orgs').set(admin).send({ orgId, name: orgId, ownerUserId: owner.id }).expect(201);
    await t.http.put(`/api/orgs/${orgId}/members/${second.id}`).set(admin).send({ role: 'admin' }).expect(200);
    for (const manager of [owner, second]) {
      for (let i = 0; i < 5; i++) {
        await t.http
          .post('/api/promotions/redeem')
          .set(manager.auth)
          .send({ code: `W7-ORG-${i}-${uniqueId('').slice(2).toUpperCase()}`, orgId })
          .expect(404);
      }
    }
    const code = `W7-ORGREAL-${uniqueId('').slice(2).toUpperCase()}`;
    await t.http
      .post('/api/promotions')
      .set(admin)
      .send({ code, credits: 5, expiryDays: 1, accounts: 'any' })
      .expect(201);
    const blocked = await t.http.post('/api/promotions/redeem').set(owner.auth).send({ code, orgId }).expect(429);
    expect(blocked.body.code).toBe('PROMOTION_FAILURE_LIMIT');
    // Each manager made only 5 refusals of their own: for their own account they are not blocked.
    await t.http.post('/api/promotions/redeem').set(second.auth).send({ code }).expect(201);
  });
});

describe('W13: over portal sessions and old promotion refusals are deleted by a job', () => {
  it('deletes ended and expired sessions and refusals older than a day; keeps the live ones', async () => {
    const user = await newUser('w13user');
    const mint = async () =>
      (await t.http.post('/api/portal/sessions').set('X-API-Key', serviceKey).send({ userId: user.id }).expect(201))
        .body as { id: string; token: string };
    const [live, ended, expired] = [await mint(), await mint(), await mint()];
    await t.http.delete(`/api/portal/sessions/${ended.id}`).set('X-API-Key', serviceKey).expect(204);
    await t.db.query(`UPDATE portal_sessions SET expires_at = now() - interval '1 second' WHERE id = $1`, [expired.id]);
    const old = `user:${uniqueId('w13old')}`;
    const recent = `user:${uniqueId('w13recent')}`;
    await t.db.query(
      `INSERT INTO promotion_failures (principal, window_start, failures)
       VALUES ($1, now() - interval '25 hours', 3), ($2, now() - interval '2 hours', 4)`,
      [old, recent],
    );

    expect(await t.app.get(PortalSessionsJob).cleanup()).toBeGreaterThanOrEqual(2);
    expect(await t.app.get(PromotionFailuresJob).cleanup()).toBeGreaterThanOrEqual(1);

    const sessions = await t.db.query(`SELECT id FROM portal_sessions WHERE id = ANY($1)`, [
      [live.id, ended.id, expired.id],
    ]);
    expect(sessions.rows.map((r: { id: string }) => r.id)).toEqual([live.id]);
    const failures = await t.db.query(`SELECT principal FROM promotion_failures WHERE principal = ANY($1)`, [
      [old, recent],
    ]);
    expect(failures.rows.map((r: { principal: string }) => r.principal)).toEqual([recent]);
    // The live token still works; the deleted ones answer 401 as they did before.
    await t.http.get('/api/credits/balance').set(bearer(live.token)).expect(200);
    await t.http.get('/api/credits/balance').set(bearer(ended.token)).expect(401);
    await t.http.get('/api/credits/balance').set(bearer(expired.token)).expect(401);
  });
});
