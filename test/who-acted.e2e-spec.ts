import { randomUUID } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { startTestApp, type TestApp } from './support/app.js';
import { type CreatedApiKey, Fixtures, type Principal, principal } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

// "Debits nobody can attribute": a record of `credits` by an admin JWT or any service key
// wrote no audit entry, and nothing named the key. docs/audit.md "Who acted, beyond the audit log": records carry the
// writing key (`apiKeyId`) and, when the writer is not the billed user, who it was (`actorId`);
// credits named outright for another account are audited (`usage.record`); an abort by another
// credential than the session's opener is audited (`session.abort`), the opener's own is not.
// "Metering is its own audit trail": the `usage.record` entry is read from the record
// itself (target: the account charged), not written to audit_log (test/metering-audit-trail.e2e-spec.ts).

describe('who acted (METERING_TRUST=service)', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  let admin: Principal;
  let service: CreatedApiKey;
  let otherService: CreatedApiKey;
  const model = `who-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    t = await startTestApp({ METERING_TRUST: 'service' });
    f = new Fixtures(t, { users, prefix: 'who' });
    admin = principal('admin', 'who-admin');
    service = await f.apiKey(admin, { name: 'gateway', permissions: ['usage:ingest'] });
    otherService = await f.apiKey(admin, { name: 'janitor', permissions: ['usage:ingest'] });
    await t.http.post('/api/pricing').set(admin.auth).send({ modelId: model, pricePer1kTokens: '1' }).expect(201);
  });
  afterAll(() => t?.close());
  afterEach(async () => {
    await expectInvariants(t, users);
  });

  const post = (path: string, auth: Record<string, string>, body: Record<string, unknown>) =>
    t.http.post(`/api/${path}`).set(auth).send(body);
  const key = (k: CreatedApiKey) => ({ 'X-API-Key': k.key });
  const entries = async (action: string, targetId: string) =>
    (
      await t.http
        .get(`/api/audit?action=${action}&targetId=${encodeURIComponent(targetId)}`)
        .set(admin.auth)
        .expect(200)
    ).body.items;

  it('a service key naming credits for a user: the record names the key and its owner, and is audited', async () => {
    const u = await f.newUser({ credits: 100 });
    const res = await post('usage/record', key(service), {
      userId: u.id,
      service: 'chat',
      operation: 'c',
      credits: 30,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ userId: u.id, credits: 30, apiKeyId: service.id, actorId: admin.id });
    const [entry] = await entries('usage.record', u.id);
    expect(entry).toEqual({
      id: res.body.id,
      at: res.body.timestamp,
      actor: { userId: admin.id, via: 'api-key', apiKeyId: service.id },
      action: 'usage.record',
      target: { type: 'user', id: u.id },
      before: null,
      after: { credits: 30, service: 'chat', operation: 'c' },
      requestId: res.headers['x-request-id'],
    });
    // The views show it: the list, and the CSV export.
    const list = await t.http.get(`/api/usage/records?userId=${u.id}`).set(admin.auth).expect(200);
    expect(list.body.items).toEqual([
      expect.objectContaining({ id: res.body.id, apiKeyId: service.id, actorId: admin.id }),
    ]);
    const csv = await t.http.get(`/api/usage/records?userId=${u.id}&format=csv`).set(admin.auth).expect(200);
    const [header, row] = (csv.text as string).split('\r\n');
    const cells = header.split(',');
    const values = row.split(',');
    expect(values[cells.indexOf('apiKeyId')]).toBe(`"${service.id}"`);
    expect(values[cells.indexOf('actorId')]).toBe(`"${admin.id}"`);
    expect(await f.available(u.id)).toBe(70);
  });

  it('priced from tokens, or a replay of the same event: the record names the key, no usage.record entry', async () => {
    const u = await f.newUser({ credits: 100 });
    const priced = await post('usage/record', key(service), {
      userId: u.id,
      service: 'chat',
      operation: 'c',
      modelId: model,
      tokens: 5000,
    }).expect(201);
    expect(priced.body).toMatchObject({ credits: 5, apiKeyId: service.id, actorId: admin.id });
    expect(await entries('usage.record', u.id)).toEqual([]);
    const body = { userId: u.id, service: 'chat', operation: 'c', credits: 4, eventId: `ev-${randomUUID()}` };
    const first = await post('usage/record', key(service), body).expect(201);
    await post('usage/record', key(service), body).expect(200);
    expect((await entries('usage.record', u.id)).map((e: { id: string }) => e.id)).toEqual([first.body.id]);
  });

  it('an admin JWT naming credits for another user is audited; for its own account it is not', async () => {
    const u = await f.newUser({ credits: 100 });
    const res = await post('usage/record', admin.auth, { userId: u.id, service: 'chat', operation: 'c', credits: 9 });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ apiKeyId: null, actorId: admin.id });
    const [entry] = await entries('usage.record', u.id);
    expect(entry).toMatchObject({ id: res.body.id, actor: { userId: admin.id, via: 'jwt' }, after: { credits: 9 } });
    expect(entry.actor.apiKeyId).toBeUndefined();

    const self = principal('admin', 'who-self');
    await t.http.get('/api/users/me').set(self.auth).expect(200);
    await f.grant(self.id, 20);
    users.push(self.id);
    const own = await post('usage/record', self.auth, { service: 'chat', operation: 'c', credits: 3 }).expect(201);
    expect(own.body).toMatchObject({ userId: self.id, apiKeyId: null, actorId: null });
    expect(await entries('usage.record', self.id)).toEqual([]);
  });

  it('the entry of a record with metadata shows its credits, service and operation only', async () => {
    const u = await f.newUser({ credits: 100 });
    const metadata = { note: 'n', key: 'sk-live-1', nested: { url: 'https://me:pw@example.com/p?q=1' } };
    const res = await post('usage/record', key(service), {
      userId: u.id,
      service: 'chat',
      operation: 'c',
      credits: 7,
      metadata,
    }).expect(201);
    expect(res.body.metadata).toEqual(metadata);
    const [entry] = await entries('usage.record', u.id);
    expect(entry.after).toEqual({ credits: 7, service: 'chat', operation: 'c' });
    expect(JSON.stringify(entry)).not.toContain('sk-live-1');
  });

  it('a refused record writes no entry', async () => {
    const u = await f.newUser({ credits: 5 });
    await post('usage/record', key(service), { userId: u.id, service: 'chat', operation: 'c', credits: 50 }).expect(
      402,
    );
    expect(await entries('usage.record', u.id)).toEqual([]);
  });

  it('batch records name the key and the writer; events naming credits are audited, priced ones not', async () => {
    const u = await f.newUser({ credits: 100 });
    const batch = {
      events: [
        { eventId: `b-${randomUUID()}`, userId: u.id, service: 'chat', operation: 'c', credits: 2 },
        { eventId: `b-${randomUUID()}`, userId: u.id, service: 'chat', operation: 'c', modelId: model, tokens: 1000 },
      ],
    };
    const res = await post('usage/records/batch', key(service), batch).expect(200);
    expect(res.body.created).toBe(2);
    const { rows } = await t.db.query(
      `SELECT api_key_id, actor_id FROM usage_records WHERE user_id = $1 ORDER BY credits`,
      [u.id],
    );
    expect(rows).toEqual([
      { api_key_id: service.id, actor_id: admin.id },
      { api_key_id: service.id, actor_id: admin.id },
    ]);
    const [named, priced] = res.body.results as { usageRecordId: string }[];
    expect(priced.usageRecordId).not.toBe(named.usageRecordId);
    expect(await entries('usage.record', u.id)).toEqual([
      expect.objectContaining({
        id: named.usageRecordId,
        actor: { userId: admin.id, via: 'api-key', apiKeyId: service.id },
        target: { type: 'user', id: u.id },
        after: { credits: 2, service: 'chat', operation: 'c' },
      }),
    ]);
    // The same batch again: duplicates, nothing more audited.
    await post('usage/records/batch', key(service), batch).expect(200);
    expect(await entries('usage.record', u.id)).toHaveLength(1);
  });

  describe('aborts', () => {
    const open = async (userId: string) => {
      const sessionId = `who-${randomUUID()}`;
      await post('streaming-sessions/initialize', key(service), {
        userId,
        sessionId,
        modelId: model,
        estimatedTokens: 10_000,
      }).expect(201);
      return sessionId;
    };
    const aborts = async (userId: string, sessionId: string) => entries('session.abort', `${userId}/${sessionId}`);

    it('by the credential that opened the session: metering, not audited; the record names the key', async () => {
      const u = await f.newUser({ credits: 100 });
      const sessionId = await open(u.id);
      await post('streaming-sessions/abort', key(service), { userId: u.id, sessionId, tokensGenerated: 2000 }).expect(
        200,
      );
      expect(await aborts(u.id, sessionId)).toEqual([]);
      const [record] = await f.usageRecordsOf(sessionId);
      const { rows } = await t.db.query(`SELECT api_key_id, actor_id FROM usage_records WHERE id = $1`, [record.id]);
      expect(rows).toEqual([{ api_key_id: service.id, actor_id: admin.id }]);
    });

    it('by another service key, or by an admin token: audited, with who did it', async () => {
      const u = await f.newUser({ credits: 100 });
      const first = await open(u.id);
      await post('streaming-sessions/abort', key(otherService), { userId: u.id, sessionId: first }).expect(200);
      expect(await aborts(u.id, first)).toEqual([
        expect.objectContaining({
          actor: expect.objectContaining({ via: 'api-key', apiKeyId: otherService.id }),
          before: expect.objectContaining({ status: 'active', openedByApiKeyId: service.id }),
          after: { sessionId: first, userId: u.id, status: 'aborted', partialCredits: 0, refund: 12, shortfall: 0 },
        }),
      ]);
      const second = await open(u.id);
      await post('streaming-sessions/abort', admin.auth, { userId: u.id, sessionId: second }).expect(200);
      // Again: the same answer, no second entry.
      await post('streaming-sessions/abort', admin.auth, { userId: u.id, sessionId: second }).expect(200);
      expect(await aborts(u.id, second)).toEqual([
        expect.objectContaining({ actor: { userId: admin.id, role: 'admin', via: 'jwt' } }),
      ]);
      const [record] = await f.usageRecordsOf(second);
      const { rows } = await t.db.query(`SELECT api_key_id, actor_id FROM usage_records WHERE id = $1`, [record.id]);
      expect(rows).toEqual([{ api_key_id: null, actor_id: admin.id }]);
    });

    it('finalize by the opener: the record names the key; nothing audited', async () => {
      const u = await f.newUser({ credits: 100 });
      const sessionId = await open(u.id);
      await post('streaming-sessions/finalize', key(service), { userId: u.id, sessionId, actualTokens: 3000 }).expect(
        200,
      );
      const [record] = await f.usageRecordsOf(sessionId);
      expect(record.credits).toBe(3);
      const { rows } = await t.db.query(`SELECT api_key_id, actor_id FROM usage_records WHERE id = $1`, [record.id]);
      expect(rows).toEqual([{ api_key_id: service.id, actor_id: admin.id }]);
      expect(await aborts(u.id, sessionId)).toEqual([]);
    });
  });
});

describe('who acted (METERING_TRUST=users)', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];

  beforeAll(async () => {
    t = await startTestApp({ METERING_TRUST: 'users' });
    f = new Fixtures(t, { users, prefix: 'who-u' });
  });
  afterAll(() => t?.close());

  it('a user’s own key: the record names the key, no actor (the writer is the billed user)', async () => {
    const u = await f.newUser({ credits: 20 });
    const own = await f.apiKey(u, { name: 'cli' });
    const viaKey = await t.http
      .post('/api/usage/record')
      .set('X-API-Key', own.key)
      .send({ service: 'chat', operation: 'c', credits: 2 })
      .expect(201);
    expect(viaKey.body).toMatchObject({ userId: u.id, apiKeyId: own.id, actorId: null });
    const viaJwt = await f.recordUsage(u, 3).expect(201);
    expect(viaJwt.body).toMatchObject({ apiKeyId: null, actorId: null });
    await expectInvariants(t, users);
  });
});
