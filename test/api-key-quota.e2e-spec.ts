import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestApp, type TestApp } from './support/app.js';
import { Fixtures } from './support/fixtures.js';

/** docs/api-keys.md: at most MAX_API_KEYS_PER_USER active keys per user, else 409 API_KEY_QUOTA. */
describe('API key quota', () => {
  let t: TestApp;
  let f: Fixtures;

  beforeAll(async () => {
    t = await startTestApp({ MAX_API_KEYS_PER_USER: '3' });
    f = new Fixtures(t, { prefix: 'quota' });
  });
  afterAll(() => t.close());

  const create = (auth: Record<string, string>, name = 'k') => t.http.post('/api/api-keys').set(auth).send({ name });
  const active = async (userId: string) =>
    (
      await t.db.query(
        `SELECT count(*)::int AS n FROM api_keys
          WHERE user_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
        [userId],
      )
    ).rows[0].n;

  it('refuses one more active key with 409 API_KEY_QUOTA; revoked and expired keys free a place', async () => {
    const u = await f.newUser();
    const keys = [];
    for (let i = 0; i < 3; i++) keys.push((await create(u.auth).expect(201)).body);
    const refused = await create(u.auth).expect(409);
    expect(refused.body).toMatchObject({ code: 'API_KEY_QUOTA', message: expect.stringMatching(/At most 3 active/) });
    expect(await active(u.id)).toBe(3);

    await t.http.delete(`/api/api-keys/${keys[0].id}`).set(u.auth).expect(200);
    await create(u.auth).expect(201);
    await t.db.query(`UPDATE api_keys SET expires_at = now() WHERE id = $1`, [keys[1].id]);
    await create(u.auth).expect(201);
    await create(u.auth).expect(409);
    expect(await active(u.id)).toBe(3);
  });

  it('parallel creations never pass the quota together; other users are not affected', async () => {
    const u = await f.newUser();
    const other = await f.newUser();
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => create(u.auth, `p${i}`)));
    expect(answers.filter((r) => r.status === 201)).toHaveLength(3);
    expect(answers.filter((r) => r.status === 409)).toHaveLength(9);
    expect(await active(u.id)).toBe(3);
    await create(other.auth).expect(201);
  });
});
