import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RecordCorrectors } from '../src/rerates/record-correctors.js';
import { RerateRunner } from '../src/rerates/rerate-runner.js';
import { UsageCorrectionsService } from '../src/usage/corrections/usage-corrections.service.js';
import { startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, principal } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * A re-rate's lanes write on connections of their own (docs/operations.md "Heavy reads"), never on the
 * request pool that metering, balances and checks use: each chunk's statements run on a connection
 * named `accounting-pricing-rerates`, and the request pool lends none to them.
 */
describe('re-rate lanes on their own pool', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const admin = principal('admin', 'rpool-admin');
  const model = uniqueId('rpool');

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'rpool', granter: admin.jwt });
    await t.http.get('/api/users/me').set(admin.auth).expect(200);
    await t.http.post('/api/pricing').set(admin.auth).send({ modelId: model, pricePer1kTokens: '10' }).expect(201);
  });
  afterAll(() => t?.close());

  it('each chunk runs on a re-rate connection, not the request pool', async () => {
    const u = await f.newUser({ credits: 1000 });
    for (let i = 0; i < 3; i++) {
      await t.http
        .post('/api/usage/record')
        .set(admin.auth)
        .send({ userId: u.id, service: 'chat', operation: 'completion', modelId: model, tokens: 1000 })
        .expect(201);
    }
    const corrections = t.app.get(UsageCorrectionsService);
    const seen: string[] = [];
    const correctors = t.app.get(RecordCorrectors);
    correctors.use({
      correctMany: async (manager, correction, items) => {
        const [row] = (await manager.query(`SELECT current_setting('application_name') AS name`)) as { name: string }[];
        seen.push(row.name);
        return corrections.correctMany(manager, correction, items);
      },
    });
    try {
      const started = await t.http
        .post('/api/pricing/rerates')
        .set(admin.auth)
        .send({
          rerateId: uniqueId('rpool'),
          from: new Date(Date.now() - 10 * 60_000).toISOString(),
          to: new Date(Date.now() + 10 * 60_000).toISOString(),
          userId: u.id,
          rules: [{ modelId: model, pricePer1kTokens: '4' }],
          reason: 'the rule had a typo',
        })
        .expect(202);
      await t.app.get(RerateRunner).settled();
      const done = await t.http.get(`/api/pricing/rerates/${started.body.id}`).set(admin.auth).expect(200);
      expect(done.body).toMatchObject({ status: 'completed', records: 3, corrected: 3, delta: -18 });
    } finally {
      correctors.use({
        correctMany: (manager, correction, items) => corrections.correctMany(manager, correction, items),
      });
    }
    expect(seen).toEqual(['accounting-pricing-rerates']);
    expect(await f.available(u.id)).toBe(1000 - 3 * 4);
    await expectInvariants(t, [u.id]);
  });
});
