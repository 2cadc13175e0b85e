import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';

const admin = bearer(tokenFor('admin', 'liability-promo-admin'));

/**
 * The liability's `credits` of an account are its valued credits (docs/finance.md): signup and
 * promotion credits beside a purchase never count, whether they are spent first, spent by a record
 * or held and settled by a streaming session with valued credits in the same hold. Each figure is
 * held to the account's valued lots (and the valued part of an open hold). A database of its own:
 * the liability reads every account.
 */
describe('finance: the liability counts an account’s valued credits only', () => {
  let own: OwnDatabase;
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const model = uniqueId('lp-model');

  beforeAll(async () => {
    own = await ownDatabase('liabpromo');
    t = await startTestApp({ DATABASE_URL: own.url, JOBS_ENABLED: 'false', SIGNUP_CREDITS: '100' });
    f = new Fixtures(t, { users, prefix: 'lp' });
    await t.http.get('/api/users/me').set(admin).expect(200);
    await t.http.post('/api/pricing').set(admin).send({ modelId: model, pricePer1kTokens: '10' }).expect(201);
  });
  afterAll(async () => {
    await t?.close();
    await own?.drop();
  });

  /** The account's line of the liability in usd now. */
  const liabilityOf = async (userId: string) => {
    const res = await t.http.get('/api/finance/liability').query({ currency: 'usd' }).set(admin).expect(200);
    return (res.body.accounts as { userId?: string; credits: number; value: string }[]).find(
      (a) => a.userId === userId,
    );
  };
  /** The account's valued credits: its usd lots' credits left, and the usd credits its open holds keep. */
  const valuedCredits = async (userId: string): Promise<number> => {
    const { rows } = await t.db.query<{ n: number }>(
      `SELECT (SELECT COALESCE(sum(al.remaining_credits), 0) FROM credit_allocations al
                WHERE al.account_id = a.account_id AND al.currency = 'usd')
            + (SELECT COALESCE(-sum(l.amount), 0) FROM credit_ledger l
                 JOIN credit_holds h ON h.session_id = l.session_id AND h.account_id = l.account_id
                WHERE l.account_id = a.account_id AND l.currency = 'usd' AND l.kind IN ('hold', 'release')
                  AND h.settled_at IS NULL) AS n
         FROM accounts a WHERE a.user_id = $1`,
      [userId],
    );
    return Number(rows[0].n);
  };
  const record = (auth: { Authorization: string }, credits: number) =>
    t.http.post('/api/usage/record').set(auth).send({ service: 'chat', operation: 'reply', credits }).expect(201);

  async function promotedBuyer() {
    const u = await f.newUser(); // 100 signup credits
    const code = `LP-${uniqueId('').slice(2).toUpperCase()}`;
    await t.http.post('/api/promotions').set(admin).send({ code, credits: 50, expiryDays: 5 }).expect(201);
    await t.http.post('/api/promotions/redeem').set(u.auth).send({ code }).expect(201);
    const p = await t.http
      .post('/api/purchases')
      .set(admin)
      .send({ userId: u.id, credits: 1000, amount: '10.00', currency: 'usd', provider: 'paddle' })
      .expect(201);
    await t.http.post(`/api/purchases/${p.body.id}/paid`).set(admin).send({}).expect(200);
    expect((await t.http.get('/api/credits/balance').set(u.auth).expect(200)).body.totalCredits).toBe(1150);
    return u;
  }

  it('signup and promotion credits spent by records, then the purchase’s', async () => {
    const u = await promotedBuyer();
    expect(await liabilityOf(u.id)).toEqual({ userId: u.id, credits: 1000, value: '10.00' });
    await record(u.auth, 120); // promotional only
    expect(await liabilityOf(u.id)).toEqual({ userId: u.id, credits: 1000, value: '10.00' });
    await record(u.auth, 200); // the last 30 promotional, 170 valued
    expect(await liabilityOf(u.id)).toEqual({ userId: u.id, credits: 830, value: '8.30' });
    expect(await valuedCredits(u.id)).toBe(830);
    await expectInvariants(t, users);
  });

  it('a package bought beside signup credits: the package’s credits only, in JSON and CSV', async () => {
    const u = await f.newUser(); // 100 signup credits
    const packageId = uniqueId('lp-pack').toLowerCase();
    await t.http
      .post('/api/packages')
      .set(admin)
      .send({ packageId, name: packageId, credits: 667, price: { amount: '6.67', currency: 'usd' } })
      .expect(201);
    const p = await t.http
      .post('/api/purchases')
      .set(admin)
      .send({ userId: u.id, packageId, provider: 'paddle' })
      .expect(201);
    await t.http.post(`/api/purchases/${p.body.id}/paid`).set(admin).send({}).expect(200);
    expect((await t.http.get('/api/credits/balance').set(u.auth).expect(200)).body.totalCredits).toBe(767);
    expect(await liabilityOf(u.id)).toEqual({ userId: u.id, credits: 667, value: '6.67' });
    const csv = await t.http.get('/api/finance/liability').query({ currency: 'usd', format: 'csv' }).set(admin);
    expect(csv.text.split('\n').filter((line) => line.includes(u.id))).toEqual([
      expect.stringMatching(/"?667"?,"?6\.67"?\r?$/),
    ]);
  });

  it('a hold over promotional and valued credits, open and settled', async () => {
    const u = await promotedBuyer();
    await record(u.auth, 130); // 20 promotional left
    const session = await t.http
      .post('/api/streaming-sessions/initialize')
      .set(u.auth)
      .send({ modelId: model, estimatedTokens: 10_000 })
      .expect(201);
    expect(session.body.allocatedCredits).toBe(120); // 20 promotional, 100 valued
    expect(await liabilityOf(u.id)).toEqual({ userId: u.id, credits: 1000, value: '10.00' });
    expect(await valuedCredits(u.id)).toBe(1000);
    await t.http
      .post('/api/streaming-sessions/finalize')
      .set(u.auth)
      .send({ sessionId: session.body.sessionId, actualTokens: 3000 })
      .expect(200);
    const after = await liabilityOf(u.id);
    expect(after?.credits).toBe(await valuedCredits(u.id));
    expect(after).toEqual({ userId: u.id, credits: 990, value: '9.90' });
    await expectInvariants(t, users);
  });
});
