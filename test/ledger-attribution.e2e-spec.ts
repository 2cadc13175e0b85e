import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * Attribution on the ledger (docs/audit.md "Who acted, beyond the audit log"): every
 * ledger entry made through an API key carries its `apiKeyId`, a record's debits, a hold's lines and
 * its settlement's releases and overrun alike; entries made with a JWT or by a job carry null.
 */
describe('ledger attribution', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const model = `attribution-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    t = await startTestApp({ JOBS_ENABLED: 'false' });
    f = new Fixtures(t, { users, prefix: 'la' });
    // 10 credits per 1k tokens: 1000 estimated tokens hold ceil(10 × 6/5) = 12.
    const rule = await t.http
      .post('/api/pricing')
      .set(bearer(tokenFor('admin', 'attribution-admin')))
      .send({ modelId: model, pricePer1kTokens: '10' });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
  });
  afterAll(() => t.close());

  it('a key’s record, hold, release and overrun entries carry its id; a JWT’s and a grant’s null', async () => {
    const u = await f.newUser({ credits: [3, 100] });
    const created = await t.http.post('/api/api-keys').set(u.auth).send({ name: 'attribution' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const key = created.body as { id: string; key: string };

    const viaKey = await t.http
      .post('/api/usage/record')
      .set('X-API-Key', key.key)
      .send({ service: 'chat', operation: 'completion', credits: 5 });
    expect(viaKey.status, JSON.stringify(viaKey.body)).toBe(201);
    const viaJwt = await t.http
      .post('/api/usage/record')
      .set(u.auth)
      .send({ service: 'chat', operation: 'completion', credits: 1 });
    expect(viaJwt.status, JSON.stringify(viaJwt.body)).toBe(201);

    // Two sessions through the key, each holding 12: one settles 20 (an overrun of 8), one 5 (7 released).
    const session = async (actualTokens: number) => {
      const sessionId = `attr-${randomUUID()}`;
      const init = await t.http
        .post('/api/streaming-sessions/initialize')
        .set('X-API-Key', key.key)
        .send({ modelId: model, sessionId, estimatedTokens: 1000 });
      expect(init.status, JSON.stringify(init.body)).toBe(201);
      const fin = await t.http
        .post('/api/streaming-sessions/finalize')
        .set('X-API-Key', key.key)
        .send({ sessionId, actualTokens });
      expect(fin.status, JSON.stringify(fin.body)).toBe(200);
      return sessionId;
    };
    const overrun = await session(2000);
    const refunded = await session(500);

    const ledger = await t.http.get('/api/credits/ledger?limit=100').set(u.auth).expect(200);
    const entries = ledger.body.items as {
      kind: string;
      apiKeyId: string | null;
      usageRecordId: string | null;
      sessionId: string | null;
    }[];
    const of = (pick: (e: (typeof entries)[number]) => boolean) => entries.filter(pick).map((e) => e.apiKeyId);
    expect(of((e) => e.kind === 'grant')).toEqual([null, null]);
    expect(of((e) => e.usageRecordId === viaKey.body.id)).toEqual([key.id, key.id]);
    expect(of((e) => e.usageRecordId === viaJwt.body.id)).toEqual([null]);
    const lines = (id: string) => entries.filter((e) => e.sessionId === id);
    expect(new Set(lines(overrun).map((e) => e.kind))).toEqual(new Set(['hold', 'debit']));
    expect(new Set(lines(refunded).map((e) => e.kind))).toEqual(new Set(['hold', 'release']));
    for (const id of [overrun, refunded]) expect(new Set(lines(id).map((e) => e.apiKeyId))).toEqual(new Set([key.id]));
    await expectInvariants(t, users);
  });

  it('a service key’s debit names the service key, or the user’s key it named', async () => {
    const u = await f.newUser({ credits: 100 });
    const admin = bearer(tokenFor('admin', 'attribution-service-admin'));
    await t.http.get('/api/users/me').set(admin).expect(200);
    const service = await t.http
      .post('/api/api-keys')
      .set(admin)
      .send({ name: 'gateway', permissions: ['usage:ingest'] });
    expect(service.status, JSON.stringify(service.body)).toBe(201);
    const userKey = await t.http.post('/api/api-keys').set(u.auth).send({ name: 'user key' });
    expect(userKey.status, JSON.stringify(userKey.body)).toBe(201);

    const record = (body: Record<string, unknown>) =>
      t.http
        .post('/api/usage/record')
        .set('X-API-Key', service.body.key)
        .send({ userId: u.id, service: 'chat', operation: 'completion', credits: 2, ...body });
    const own = await record({});
    expect(own.status, JSON.stringify(own.body)).toBe(201);
    const named = await record({ apiKeyId: userKey.body.id });
    expect(named.status, JSON.stringify(named.body)).toBe(201);

    const { rows } = await t.db.query<{ usage_record_id: string; api_key_id: string | null }>(
      `SELECT usage_record_id, api_key_id FROM credit_ledger WHERE usage_record_id = ANY($1::uuid[])`,
      [[own.body.id, named.body.id]],
    );
    expect(rows.filter((r) => r.usage_record_id === own.body.id).map((r) => r.api_key_id)).toEqual([service.body.id]);
    expect(rows.filter((r) => r.usage_record_id === named.body.id).map((r) => r.api_key_id)).toEqual([userKey.body.id]);
    // The record names the key that wrote it either way.
    expect(own.body.apiKeyId).toBe(service.body.id);
    expect(named.body.apiKeyId).toBe(service.body.id);
    await expectInvariants(t, users);
  });
});
