import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * Signup credits (docs/selling.md): with SIGNUP_CREDITS, a user's account receives one promotional
 * allocation when it is created, exactly once per user id, also when two instances see its first
 * requests at once.
 */
describe('signup credits', () => {
  let a: TestApp;
  let b: TestApp;
  const env = { SIGNUP_CREDITS: '250', SIGNUP_CREDITS_EXPIRY_DAYS: '14', THROTTLE_LIMIT: '100000' };

  beforeAll(async () => {
    [a, b] = await Promise.all([startTestApp(env), startTestApp(env)]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  const signupAllocations = async (userId: string) =>
    (
      await a.db.query(
        `SELECT total_credits, source, allocated_by, round(extract(epoch FROM expires_at - allocated_at) / 86400)::int AS days
           FROM credit_allocations WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) ORDER BY allocated_at`,
        [userId],
      )
    ).rows;

  it('a new user’s first request grants them once', async () => {
    const id = uniqueId('su');
    const me = await a.http
      .get('/api/credits/balance')
      .set(bearer(token({ sub: id })))
      .expect(200);
    expect(me.body.totalCredits).toBe(250);
    await b.http
      .get('/api/users/me')
      .set(bearer(token({ sub: id })))
      .expect(200);
    // A new email or role refreshes the account; it is not a new account.
    await a.http
      .get('/api/users/me')
      .set(bearer(token({ sub: id, email: 'new@example.com' })))
      .expect(200);
    expect(await signupAllocations(id)).toEqual([
      { total_credits: 250, source: 'signup', allocated_by: 'signup', days: 14 },
    ]);
    const granted = await a.db.query(
      `SELECT data->>'source' AS source FROM events WHERE type = 'credits.granted' AND data->>'userId' = $1`,
      [id],
    );
    expect(granted.rows).toEqual([{ source: 'signup' }]);
  });

  it('two instances seeing a new user’s first requests at once: one allocation', async () => {
    const ids = Array.from({ length: 10 }, () => uniqueId('su2'));
    await Promise.all(
      ids.flatMap((id) => {
        const auth = bearer(token({ sub: id }));
        return Array.from({ length: 6 }, (_, i) =>
          (i % 2 ? a : b).http.get('/api/credits/balance').set(auth).expect(200),
        );
      }),
    );
    for (const id of ids) expect(await signupAllocations(id), id).toHaveLength(1);
    await expectInvariants(a, ids);
  });

  it('an account made by a grant ahead of the first login gets them too, once', async () => {
    const id = uniqueId('su3');
    const admin = bearer(tokenFor('admin', 'signup-admin'));
    await a.http
      .post('/api/credits/allocate')
      .set(admin)
      .send({ userId: id, credits: 100, email: `${id}@example.com`, username: id })
      .expect(201);
    await b.http
      .get('/api/users/me')
      .set(bearer(token({ sub: id })))
      .expect(200);
    const rows = await signupAllocations(id);
    expect(rows.map((r) => [r.source, r.total_credits]).sort()).toEqual([
      ['manual', 100],
      ['signup', 250],
    ]);
  });

  it('a second signup allocation cannot exist, whatever the code does', async () => {
    const id = uniqueId('su4');
    await a.http
      .get('/api/users/me')
      .set(bearer(token({ sub: id })))
      .expect(200);
    const again = await a.db.query(
      `SELECT * FROM credits_grant((SELECT account_id FROM accounts WHERE user_id = $1), 250, 'signup', now() + interval '1 day', NULL, 'signup', NULL, NULL, NULL, true)`,
      [id],
    );
    expect(again.rows).toEqual([]);
    expect(await signupAllocations(id)).toHaveLength(1);
  });
});

describe('without SIGNUP_CREDITS', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it('a new user receives nothing', async () => {
    const id = uniqueId('su0');
    const me = await t.http
      .get('/api/credits/balance')
      .set(bearer(token({ sub: id })))
      .expect(200);
    expect(me.body.totalCredits).toBe(0);
  });
});
