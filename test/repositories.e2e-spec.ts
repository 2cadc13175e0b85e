import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, principal, tokenFor } from './support/fixtures.js';

/**
 * The reads and writes that moved to TypeORM repositories keep what the hand-written SQL did:
 * keyset pages on a timestamp and an id at PostgreSQL's microsecond precision, even when rows share
 * one instant; activity judged by the database's clock; values answered as the database stored them.
 */
describe('repositories', () => {
  let t: TestApp;
  let f: Fixtures;
  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t);
  });
  afterAll(() => t?.close());

  const admin = () => bearer(tokenFor('admin'));
  /** One instant with microseconds a JS Date cannot hold. */
  const INSTANT = '2001-02-03T04:05:06.123456Z';

  async function allPages(path: string, query: Record<string, unknown>, auth: Record<string, string>) {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 20; page++) {
      const res: { body: { items: Record<string, string>[]; nextCursor: string | null } } = await t.http
        .get(path)
        .query({ ...query, limit: 2, ...(cursor ? { cursor } : {}) })
        .set(auth)
        .expect(200);
      seen.push(...res.body.items.map((i) => i.userId + '/' + (i.id ?? '')));
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    return { seen, cursor };
  }

  it('pages users created in the same microsecond each exactly once, by id', async () => {
    const tag = uniqueId('same').replace(/-/g, '');
    const ids = ['c', 'a', 'e', 'b', 'd'].map((s) => `${tag}-${s}`);
    for (const id of ids) {
      await t.db.query(`INSERT INTO user_accounts (user_id, created_at) VALUES ($1, $2)`, [id, INSTANT]);
    }
    const { seen, cursor } = await allPages('/api/users', { search: tag }, admin());
    expect(cursor).toBeNull();
    expect(seen).toEqual([...ids].sort().map((id) => `${id}/`));
  });

  it('pages API keys created in the same microsecond each exactly once, newest id first', async () => {
    const owner = principal('user', 'keys');
    const { id: sub, auth } = owner;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await f.apiKey(owner, { name: `k${i}` })).id);
    await t.db.query(`UPDATE api_keys SET created_at = $2 WHERE user_id = $1`, [sub, INSTANT]);
    const { seen, cursor } = await allPages('/api/api-keys', {}, auth);
    expect(cursor).toBeNull();
    expect(seen).toEqual(
      [...ids]
        .sort()
        .reverse()
        .map((id) => `${sub}/${id}`),
    );
  });

  it("an API key's isActive follows the database's clock; revoking twice keeps the first time", async () => {
    const owner = principal('user', 'keys');
    const { auth } = owner;
    const key = await f.apiKey(owner, { name: 'k' });
    expect(key.isActive).toBe(true);
    await t.db.query(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [key.id]);
    expect((await t.http.get(`/api/api-keys/${key.id}`).set(auth).expect(200)).body.isActive).toBe(false);
    await t.db.query(`UPDATE api_keys SET expires_at = NULL, revoked_at = $2 WHERE id = $1`, [key.id, INSTANT]);
    const revoked = (await t.http.delete(`/api/api-keys/${key.id}`).set(auth).expect(200)).body;
    expect(revoked).toMatchObject({ id: key.id, isActive: false, revokedAt: '2001-02-03T04:05:06.123Z' });
  });

  it('a created pricing rule answers its prices as stored, the same as its history', async () => {
    const modelId = uniqueId('model');
    const created = (
      await t.http
        .post('/api/pricing')
        .set(admin())
        .send({ modelId, pricePer1kTokens: '1.5', providerCostPer1kTokens: '0.003' })
        .expect(201)
    ).body;
    expect(created).toMatchObject({ pricePer1kTokens: '1.5000', providerCostPer1kTokens: '0.0030' });
    const history = await t.http.get(`/api/pricing/${modelId}/history`).set(admin()).expect(200);
    expect(history.body.items).toEqual([created]);
  });
});
