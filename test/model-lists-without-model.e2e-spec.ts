import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { Fixtures } from './support/fixtures.js';

/**
 * A write that names its credits and no model passes a model list only when the list allows every
 * model (docs/pricing.md "Model entitlements"): an org's, a key's or a plan's list naming models
 * refuses it with 403 MODEL_NOT_ENTITLED (a batch event: `invalid`), nothing written.
 */
let t: TestApp;
let f: Fixtures;
const admin = bearer(token({ sub: uniqueId('nomodeladmin'), role: 'admin' }));

beforeAll(async () => {
  t = await startTestApp();
  f = new Fixtures(t, { prefix: 'nomodel' });
  await t.http.get('/api/users/me').set(admin).expect(200);
});
afterAll(() => t?.close());

const records = async (userId: string) =>
  Number((await t.db.query(`SELECT count(*) AS n FROM usage_records WHERE user_id = $1`, [userId])).rows[0].n);
const record = (auth: Record<string, string>, body: Record<string, unknown>) =>
  t.http
    .post('/api/usage/record')
    .set(auth)
    .send({ service: 'chat', operation: 'c', credits: 5, ...body });

describe('credits named without a model and the model lists in force', () => {
  it('an org whose list names models refuses them; one of every model takes them', async () => {
    const owner = await f.newUser();
    const member = await f.newUser();
    const orgId = uniqueId('nomodelorg').toLowerCase();
    await t.http.post('/api/orgs').set(admin).send({ orgId, name: orgId, ownerUserId: owner.id }).expect(201);
    await t.http.put(`/api/orgs/${orgId}/members/${member.id}`).set(admin).send({ role: 'member' }).expect(200);
    await t.http.post('/api/credits/allocate').set(admin).send({ orgId, credits: 1000 }).expect(201);
    await t.http
      .put(`/api/orgs/${orgId}/models`)
      .set(admin)
      .send({ models: ['anthropic.*'] })
      .expect(200);

    const refused = await record(admin, { userId: member.id, orgId });
    expect(refused.status, JSON.stringify(refused.body)).toBe(403);
    expect(refused.body.code).toBe('MODEL_NOT_ENTITLED');
    const batch = await t.http
      .post('/api/usage/records/batch')
      .set(admin)
      .send({
        events: [{ userId: member.id, orgId, service: 'chat', operation: 'c', credits: 5, eventId: uniqueId('b') }],
      })
      .expect(200);
    expect(batch.body.results[0].error).toMatch(/^MODEL_NOT_ENTITLED/);
    expect(await records(member.id)).toBe(0);
    const balance = await t.http.get(`/api/orgs/${orgId}/balance`).set(admin);
    expect(balance.body.totalCredits, JSON.stringify(balance.body)).toBe(1000);

    // A model the list allows still passes with credits; a list of every model takes none.
    expect((await record(admin, { userId: member.id, orgId, modelId: 'anthropic.claude-3' })).status).toBe(201);
    await t.http
      .put(`/api/orgs/${orgId}/models`)
      .set(admin)
      .send({ models: ['*'] })
      .expect(200);
    expect((await record(admin, { userId: member.id, orgId })).status).toBe(201);
    expect(await records(member.id)).toBe(2);
  });

  it('a key’s and a plan’s list refuse them too; no list takes them', async () => {
    const user = await f.newUser({ credits: 1000 });
    const key = await f.apiKey({ auth: admin }, { permissions: ['usage:ingest'], models: ['anthropic.*'] });
    const byKey = await record({ 'X-API-Key': key.key }, { userId: user.id });
    expect(byKey.status, JSON.stringify(byKey.body)).toBe(403);
    expect(byKey.body).toMatchObject({ code: 'MODEL_NOT_ENTITLED', modelId: null });

    const planId = uniqueId('nomodelplan')
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '');
    await t.http
      .post('/api/plans')
      .set(admin)
      .send({ id: planId, name: 'p', credits: 10, period: 'month', models: ['anthropic.*'] })
      .expect(201);
    const planned = await f.newUser({ credits: 1000 });
    await t.http.put(`/api/users/${planned.id}/subscription`).set(admin).send({ planId }).expect(200);
    expect((await record(admin, { userId: planned.id })).body.code).toBe('MODEL_NOT_ENTITLED');
    expect(await records(user.id)).toBe(0);
    expect(await records(planned.id)).toBe(0);

    expect((await record(admin, { userId: user.id })).status).toBe(201);
  });
});
