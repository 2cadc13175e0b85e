import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';
import { PgFaultProxy } from './support/pg-fault-proxy.js';

// During a database restart a record must not answer 503 "please retry" once the record and its
// idempotency key have committed, or a client retrying without a key is charged twice. The app here
// reaches PostgreSQL through a proxy that cuts the connection after the server committed and before
// the answer arrives.

let t: TestApp;
let proxy: PgFaultProxy;
const users: string[] = [];
let f: Fixtures;
beforeAll(async () => {
  proxy = await PgFaultProxy.start(inject('databaseUrl'));
  t = await startTestApp({ DATABASE_URL: proxy.url });
  f = new Fixtures(t, { users });
});
afterAll(async () => {
  await t?.close();
  await proxy?.close();
});
afterEach(() => expectInvariants(t, users));

const recordsOf = async (userId: string) =>
  (await t.db.query('SELECT id, operation FROM usage_records WHERE user_id = $1', [userId])).rows;

describe('the connection is lost after COMMIT went through', () => {
  it('is 503 OUTCOME_UNKNOWN, and the retry with the same Idempotency-Key replays the committed answer', async () => {
    const u = await f.newUser({ credits: 100 });
    const key = uniqueId('commit-key');
    const record = () => f.recordUsage(u, 7, key);

    const cut = proxy.cutAfterCommit(key);
    const lost = await record();
    await cut;
    expect(lost.status, JSON.stringify(lost.body)).toBe(503);
    expect(lost.body).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      code: 'OUTCOME_UNKNOWN',
      message: expect.stringMatching(/Idempotency-Key/),
      requestId: expect.any(String),
    });
    // It did commit: the debit, the record and the stored answer.
    const [committed] = await recordsOf(u.id);
    expect(committed).toBeDefined();
    expect(await f.available(u.id)).toBe(93);

    const retry = await record();
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toMatchObject({ id: committed.id, credits: 7 });
    expect(await recordsOf(u.id)).toHaveLength(1);
    expect(await f.available(u.id)).toBe(93);
  });

  it('a self-committing record without a key is 503 OUTCOME_UNKNOWN too: it did commit, so "retry" would charge twice', async () => {
    const u = await f.newUser({ credits: 100 });
    const operation = uniqueId('no-key-op');
    const cut = proxy.cutAfterCommit(operation);
    const lost = await t.http
      .post('/api/usage/record')
      .set(bearer(u.jwt))
      .send({ service: 'chat', operation, credits: 7 });
    await cut;
    expect(lost.status, JSON.stringify(lost.body)).toBe(503);
    expect(lost.body.code).toBe('OUTCOME_UNKNOWN');
    expect(await recordsOf(u.id)).toEqual([{ id: expect.any(String), operation }]);
    expect(await f.available(u.id)).toBe(93);
  });

  it('the app serves normally afterwards (the cut connections left the pool)', async () => {
    const u = await f.newUser({ credits: 10 });
    await t.http
      .post('/api/usage/record')
      .set(bearer(u.jwt))
      .send({ service: 'chat', operation: 'completion', credits: 1 })
      .expect(201);
  });
});
