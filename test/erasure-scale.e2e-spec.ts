import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';

/**
 * An erasure's cost is the erased account's rows, not the size of the log (docs/erasure.md): over an
 * audit log of 1,000,000 other entries that all hold the person's username as a value (`manual`) and
 * an address that starts with theirs, it answers in under a second and leaves them all as they were.
 * On a database of its own (the million rows are its alone).
 */
const ENTRIES = 1_000_000;
const adminId = uniqueId('sadmin');
const admin = bearer(token({ sub: adminId, role: 'admin' }));
const tag = randomUUID().slice(0, 8);
const userId = uniqueId('scale');
const email = `s-${tag}@example.com`;
const jwt = bearer(token({ sub: userId, email, username: 'manual' }));

describe('an erasure over a large audit log', () => {
  let own: OwnDatabase;
  let t: TestApp;

  beforeAll(async () => {
    own = await ownDatabase('erasure_scale');
    t = await startTestApp({ DATABASE_URL: own.url, JOBS_ENABLED: 'false', EMAIL_WORKER_ENABLED: 'false' });
    await t.http.get('/api/users/me').set(admin).expect(200);
    await t.http.get('/api/users/me').set(jwt).expect(200);
    await t.http
      .post('/api/credits/allocate')
      .set(admin)
      .send({ userId, credits: 10, notes: `asked by ${email}` })
      .expect(201);
    // Other people's entries, written as the table's owner (the log refuses no INSERT); alike, so the
    // indexes take them fast.
    await own.db.query(
      `INSERT INTO audit_log (actor_user_id, actor_role, actor_via, action, target_type, target_id, before, after)
       SELECT 'other', 'admin', 'jwt', 'credits.allocate', 'allocation', 'lot', NULL, $1::jsonb
         FROM generate_series(1, $2::int)`,
      [{ userId: 'other', source: 'manual', notes: `for ${email}.au` }, ENTRIES],
    );
    await own.db.query('ANALYZE audit_log');
  }, 300_000);

  afterAll(async () => {
    await t?.close();
    await own?.drop();
  });

  it('answers in under a second and changes none of the other entries', async () => {
    const started = performance.now();
    const res = await t.http.post(`/api/users/${userId}/erasure`).set(admin).send({ reason: 'Asked' });
    const elapsed = performance.now() - started;
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(elapsed).toBeLessThan(1000);
    const { rows } = await own.db.query(
      `SELECT count(*) FILTER (WHERE after ->> 'source' = 'manual' AND after ->> 'notes' = $1)::int AS kept,
              count(*) FILTER (WHERE strpos(lower(after::text), lower($2)) > 0
                                 AND strpos(lower(after::text), lower($1)) = 0)::int AS theirs
         FROM audit_log`,
      [`for ${email}.au`, email],
    );
    expect(rows[0]).toEqual({ kept: ENTRIES, theirs: 0 });
  });
});
