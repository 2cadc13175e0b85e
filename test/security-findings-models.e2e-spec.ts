import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { Fixtures } from './support/fixtures.js';

/**
 * W11 (the service's part): a record that names its `credits` outright still names a model, and a
 * model the account may not use is refused as for a priced record: the key's list, the org's, the
 * plan's. Nothing is written.
 */
let t: TestApp;
let f: Fixtures;
const admin = bearer(token({ sub: uniqueId('w11admin'), role: 'admin' }));

beforeAll(async () => {
  t = await startTestApp();
  f = new Fixtures(t, { prefix: 'w11' });
  await t.http.get('/api/users/me').set(admin).expect(200);
});
afterAll(() => t?.close());

const records = async (userId: string) =>
  Number((await t.db.query(`SELECT count(*) AS n FROM usage_records WHERE user_id = $1`, [userId])).rows[0].n);

describe('W11: records naming credits are refused a model the account may not use', () => {
  it("a key's list: the record, with and without an eventId, and the batch event", async () => {
    const user = await f.newUser({ credits: 1000 });
    const key = await f.apiKey({ auth: admin }, { permissions: ['usage:ingest'], models: ['anthropic.*'] });
    const auth = { 'X-API-Key': key.key };
    const body = { userId: user.id, service: 'chat', operation: 'c', modelId: 'gpt-4o', credits: 7 };
    for (const extra of [{}, { eventId: uniqueId('w11e') }]) {
      const res = await t.http
        .post('/api/usage/record')
        .set(auth)
        .send({ ...body, ...extra });
      expect(res.status, JSON.stringify(res.body)).toBe(403);
      expect(res.body.code).toBe('MODEL_NOT_ENTITLED');
    }
    const batch = await t.http
      .post('/api/usage/records/batch')
      .set(auth)
      .send({ events: [{ ...body, eventId: uniqueId('w11b') }] })
      .expect(200);
    expect(batch.body.results[0].error).toMatch(/^MODEL_NOT_ENTITLED/);
    expect(await records(user.id)).toBe(0);
    expect(await f.available(user.id)).toBe(1000);
  });

  it("a plan's list, for a service principal naming the user", async () => {
    const user = await f.newUser({ credits: 1000 });
    const planId = uniqueId('w11plan')
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '');
    await t.http
      .post('/api/plans')
      .set(admin)
      .send({ id: planId, name: 'p', credits: 10, period: 'month', models: ['anthropic.*'] })
      .expect(201);
    const sub = await t.http.put(`/api/users/${user.id}/subscription`).set(admin).send({ planId });
    expect(sub.status, JSON.stringify(sub.body)).toBe(200);
    const res = await t.http
      .post('/api/usage/record')
      .set(admin)
      .send({ userId: user.id, service: 'chat', operation: 'c', modelId: 'gpt-4o', credits: 3 });
    expect(res.status, JSON.stringify(res.body)).toBe(403);
    expect(res.body.code).toBe('MODEL_NOT_ENTITLED');
    expect(await records(user.id)).toBe(0);
  });
});
