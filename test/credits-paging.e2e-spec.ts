import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';

/** Cursor paging of the credit lists (ledger, allocations) and forged cursors. */
describe('credits paging', () => {
  let t: TestApp;
  const supervisor = bearer(tokenFor('supervisor', 'credits-supervisor'));
  let f: Fixtures;

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { granter: tokenFor('supervisor', 'credits-supervisor'), prefix: 'cp' });
  });
  afterAll(() => t.close());

  it('pages the ledger newest first without gaps', async () => {
    const u = await f.newUser();
    await f.allocate(u.id, { credits: 100 }).expect(201);
    for (let i = 0; i < 6; i++) await f.recordUsage(u, 1).expect(201);
    const seen: { id: string; balanceAfter: number }[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { id: string; balanceAfter: number }[]; nextCursor: string | null } } = await t.http
        .get(`/api/credits/ledger?limit=3${cursor ? `&cursor=${cursor}` : ''}`)
        .set(u.auth)
        .expect(200);
      seen.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.map((e) => e.balanceAfter)).toEqual([94, 95, 96, 97, 98, 99, 100]);
    await t.http.get('/api/credits/ledger?cursor=garbage').set(u.auth).expect(400);
    await t.http.get('/api/credits/ledger?limit=501').set(u.auth).expect(400);
  });

  it('pages allocations without skipping rows made in the same millisecond', async () => {
    const u = await f.newUser();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await f.allocate(u.id, { credits: 1 + i }).expect(201)).body.id);
    // Same millisecond, different microseconds: a cursor rounded to milliseconds would lose rows.
    for (const [i, id] of ids.entries()) {
      await t.db.query(
        `UPDATE credit_allocations SET allocated_at = '2026-01-01T00:00:00.000${i + 1}00Z' WHERE id = $1`,
        [id],
      );
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: { id: string }[]; nextCursor: string | null } } = await t.http
        .get('/api/credits/allocations')
        .query({ limit: 1, ...(cursor ? { cursor } : {}) })
        .set(u.auth)
        .expect(200);
      seen.push(...res.body.items.map((a) => a.id));
      cursor = res.body.nextCursor;
    } while (cursor && seen.length < 10);
    expect(seen).toEqual([...ids].reverse());
  });

  it('forged cursors (well-formed JSON, bad values) are bad input (400), not a 500', async () => {
    const u = await f.newUser();
    const forged = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    await t.http
      .get('/api/credits/allocations')
      .query({ cursor: forged({ t: 'x', id: 'y' }) })
      .set(u.auth)
      .expect(400);
    await t.http
      .get('/api/credits/allocations')
      .query({ cursor: forged({ t: '2026-01-01T00:00:00.000000Z', id: 'not-a-uuid' }) })
      .set(u.auth)
      .expect(400);
    await t.http
      .get('/api/credits/ledger')
      .query({ cursor: forged({ id: '9999999999999999999' }) })
      .set(u.auth)
      .expect(400);
    await t.http
      .get('/api/users')
      .query({ cursor: forged({ t: 'x', id: 'y' }) })
      .set(supervisor)
      .expect(400);
  });
});
