import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { UsageEventIdsJob } from '../src/usage/batch/usage-event-ids.job.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser, principal } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const BATCH = '/api/usage/records/batch';

type Result = { eventId: string | null; status: string; usageRecordId?: string; credits?: number; error?: string };

describe('batch ingestion', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const admin = principal('admin', 'batch-admin');

  const ev = (eventId: string, credits: number, extra: Record<string, unknown> = {}) => ({
    eventId,
    service: 'chat',
    operation: 'completion',
    credits,
    ...extra,
  });
  const batch = (auth: Record<string, string>, events: unknown[]) => t.http.post(BATCH).set(auth).send({ events });
  const recordsOf = async (userId: string) =>
    (
      await t.db.query(
        `SELECT r.id, r.credits, e.event_id FROM usage_records r
           LEFT JOIN usage_event_ids e ON e.usage_record_id = r.id
          WHERE r.user_id = $1 ORDER BY r."timestamp", r.id`,
        [userId],
      )
    ).rows as { id: string; credits: number; event_id: string | null }[];

  beforeAll(async () => {
    t = await startTestApp({ THROTTLE_LIMIT: '100000' });
    f = new Fixtures(t, { users, prefix: 'batch' });
    await t.http.get('/api/users/me').set(admin.auth).expect(200);
  });
  afterAll(async () => {
    await expectInvariants(t, users);
    await t.close();
  });

  it('answers one result per event in request order; a short balance rejects only that event', async () => {
    const u = await f.newUser({ credits: 100 });
    const res = await batch(u.auth, [
      ev('a', 30),
      ev('b', 50),
      ev('c', 40), // 20 left: refused
      ev('d', -1), // invalid
      ev('e', 20), // still applies, after c
      { eventId: 'f', service: 'chat', operation: 'completion', modelId: HAIKU, tokens: 4000 }, // 1 credit: short
      'not an event',
    ]).expect(200);
    const results = res.body.results as Result[];
    expect(results.map((r) => [r.eventId, r.status])).toEqual([
      ['a', 'created'],
      ['b', 'created'],
      ['c', 'insufficient_credits'],
      ['d', 'invalid'],
      ['e', 'created'],
      ['f', 'insufficient_credits'],
      [null, 'invalid'],
    ]);
    expect(res.body).toMatchObject({ created: 3, duplicates: 0, rejected: 4 });
    expect(results[2]).toMatchObject({ credits: 40, error: 'INSUFFICIENT_CREDITS: Insufficient credits' });
    expect(results[3].error).toMatch(/credits/);
    expect(results[5]).toMatchObject({ credits: 1, error: 'INSUFFICIENT_CREDITS: Insufficient credits' });
    expect(await f.available(u.id)).toBe(0);

    // The records and their debits, in array order.
    const records = await recordsOf(u.id);
    expect(records.map((r) => [r.event_id, r.credits])).toEqual([
      ['a', 30],
      ['b', 50],
      ['e', 20],
    ]);
    expect(records.map((r) => r.id)).toEqual([results[0], results[1], results[4]].map((r) => r.usageRecordId));
    const debits = (await f.ledger(u.id)).filter((l) => l.kind === 'debit');
    expect(debits.map((d) => [d.usage_record_id, d.amount])).toEqual([
      [results[0].usageRecordId, -30],
      [results[1].usageRecordId, -50],
      [results[4].usageRecordId, -20],
    ]);
    // A refused event's id is free again: with credits it is recorded.
    await f.grant(u.id, 40);
    const again = await batch(u.auth, [ev('c', 40)]).expect(200);
    expect(again.body.results[0]).toMatchObject({ eventId: 'c', status: 'created', credits: 40 });
  });

  it('prices tokens exactly like the single route and keeps metadata', async () => {
    const u = await f.newUser({ credits: 100 });
    const res = await batch(u.auth, [
      ev('p1', 0, {
        credits: undefined,
        modelId: HAIKU,
        inputTokens: 100_000,
        outputTokens: 4_000,
        metadata: { k: 1 },
      }),
    ]).expect(200);
    const single = await t.http
      .post('/api/usage/record')
      .set(u.auth)
      .send({ service: 'chat', operation: 'completion', modelId: HAIKU, inputTokens: 100_000, outputTokens: 4_000 })
      .expect(201);
    expect(res.body.results[0]).toMatchObject({ status: 'created', credits: single.body.credits });
    const { rows } = await t.db.query(`SELECT metadata, model_id, input_tokens FROM usage_records WHERE id = $1`, [
      res.body.results[0].usageRecordId,
    ]);
    expect(rows[0]).toEqual({ metadata: { k: 1 }, model_id: HAIKU, input_tokens: 100_000 });
  });

  it('deduplicates within a batch and across batches (the first wins)', async () => {
    const u = await f.newUser({ credits: 100 });
    const first = await batch(u.auth, [ev('x', 10), ev('x', 20), ev('y', 5)]).expect(200);
    const [x, x2, y] = first.body.results as Result[];
    expect(x).toMatchObject({ status: 'created', credits: 10 });
    expect(x2).toEqual({ eventId: 'x', status: 'duplicate', usageRecordId: x.usageRecordId });
    expect(y.status).toBe('created');
    expect(first.body).toMatchObject({ created: 2, duplicates: 1, rejected: 0 });

    const second = await batch(u.auth, [ev('y', 5), ev('z', 1), ev('x', 10)]).expect(200);
    expect(second.body.results).toEqual([
      { eventId: 'y', status: 'duplicate', usageRecordId: y.usageRecordId },
      expect.objectContaining({ eventId: 'z', status: 'created' }),
      { eventId: 'x', status: 'duplicate', usageRecordId: x.usageRecordId },
    ]);
    expect((await recordsOf(u.id)).map((r) => r.event_id)).toEqual(['x', 'y', 'z']);
    expect(await f.available(u.id)).toBe(100 - 10 - 5 - 1);

    // Ids are per caller: another user may use the same ones.
    const other = await f.newUser({ credits: 10 });
    const theirs = await batch(other.auth, [ev('x', 1)]).expect(200);
    expect(theirs.body.results[0].status).toBe('created');
  });

  it('two identical batches at once record each eventId exactly once', async () => {
    const owners = await Promise.all(Array.from({ length: 4 }, () => f.newUser({ credits: [60, 60] })));
    const events = owners.flatMap((u, i) =>
      Array.from({ length: 12 }, (_, j) => ev(`race-${i}-${j}`, 7 + (j % 3), { userId: u.id })),
    );
    const [a, b] = await Promise.all([batch(admin.auth, events), batch(admin.auth, events)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    for (const [i, e] of events.entries()) {
      const pair = [a.body.results[i], b.body.results[i]] as Result[];
      const created = pair.filter((r) => r.status === 'created');
      expect(created, e.eventId).toHaveLength(1);
      expect(pair.find((r) => r.status !== 'created')).toEqual({
        eventId: e.eventId,
        status: 'duplicate',
        usageRecordId: created[0].usageRecordId,
      });
    }
    for (const u of owners) {
      const records = await recordsOf(u.id);
      expect(records).toHaveLength(12);
      expect(new Set(records.map((r) => r.event_id)).size).toBe(12);
      expect(await f.available(u.id)).toBe(120 - records.reduce((s, r) => s + r.credits, 0));
    }
    await expectInvariants(t, users);
  });

  it('records 1,000 events over many users in one request (over BODY_LIMIT, within BATCH_BODY_LIMIT)', async () => {
    const many = await Promise.all(Array.from({ length: 20 }, () => f.newUser({ credits: 1000 })));
    const events = Array.from({ length: 1000 }, (_, i) =>
      ev(`bulk-${i}`, 1 + (i % 5), { userId: many[i % many.length].id, metadata: { n: i } }),
    );
    expect(JSON.stringify({ events }).length).toBeGreaterThan(100 * 1024);
    const res = await batch(admin.auth, events).expect(200);
    expect(res.body).toMatchObject({ created: 1000, duplicates: 0, rejected: 0 });
    expect((res.body.results as Result[]).map((r) => r.eventId)).toEqual(events.map((e) => e.eventId));
    for (const [k, u] of many.entries()) {
      const spent = events.filter((_, i) => i % many.length === k).reduce((s, e) => s + e.credits, 0);
      expect(await f.available(u.id)).toBe(1000 - spent);
      // One user's events applied in array order.
      const records = await recordsOf(u.id);
      expect(records.map((r) => r.event_id)).toEqual(
        events.filter((_, i) => i % many.length === k).map((e) => e.eventId),
      );
    }
    await expectInvariants(t, users);
  });

  it('refuses a body that is not 1–1000 events with 400, and a body over BATCH_BODY_LIMIT with 413', async () => {
    const u = await f.newUser({ credits: 10 });
    for (const body of [{}, { events: [] }, { events: 'x' }, { events: Array(1001).fill(ev('n', 1)) }, []]) {
      await t.http.post(BATCH).set(u.auth).send(body).expect(400);
    }
    const huge = Array.from({ length: 200 }, (_, i) => ev(`h${i}`, 1, { metadata: { pad: 'x'.repeat(12_000) } }));
    await batch(u.auth, huge).expect(413);
    // The single route keeps BODY_LIMIT.
    await t.http
      .post('/api/usage/record')
      .set(u.auth)
      .send(ev('big', 1, { metadata: { pad: 'x'.repeat(15_000), more: 'y'.repeat(100 * 1024) } }))
      .expect(413);
    expect(await recordsOf(u.id)).toEqual([]);
  });

  it('counts refusals by key budget as insufficient_credits with the reason', async () => {
    const u = await f.newUser({ credits: 100 });
    const key = await f.apiKey(u, { creditLimit: 10, limitPeriod: 'total', permissions: ['usage:write'] });
    const res = await batch({ 'X-API-Key': key.key }, [ev('k1', 5), ev('k2', 6), ev('k3', 5)]).expect(200);
    expect((res.body.results as Result[]).map((r) => [r.status, r.error])).toEqual([
      ['created', undefined],
      ['insufficient_credits', expect.stringMatching(/^KEY_LIMIT_EXCEEDED: /)],
      ['created', undefined],
    ]);
  });

  describe('userId and the usage:ingest scope', () => {
    let target: FixtureUser;
    beforeAll(async () => {
      target = await f.newUser({ credits: 1000 });
    });

    it('an admin (JWT) may name the user; an unknown user is invalid', async () => {
      const res = await batch(admin.auth, [
        ev('adm-1', 3, { userId: target.id }),
        ev('adm-2', 3, { userId: uniqueId('nobody') }),
      ]).expect(200);
      expect(res.body.results[0]).toMatchObject({ status: 'created' });
      expect(res.body.results[1]).toMatchObject({ status: 'invalid', error: 'NOT_FOUND: User not found' });
      expect((await recordsOf(target.id)).map((r) => r.event_id)).toContain('adm-1');
    });

    it('a key an admin created with usage:ingest may name the user; nobody else may', async () => {
      const ingest = await f.apiKey(admin, { permissions: ['usage:write', 'usage:ingest'] });
      expect(ingest.permissions).toEqual(['usage:write', 'usage:ingest']);
      const ok = await batch({ 'X-API-Key': ingest.key }, [ev('ing-1', 2, { userId: target.id })]).expect(200);
      expect(ok.body.results[0].status).toBe('created');
      // Recorded for the target, deduplicated in the key owner's (the admin's) namespace.
      const { rows } = await t.db.query(`SELECT owner FROM usage_event_ids WHERE usage_record_id = $1`, [
        ok.body.results[0].usageRecordId,
      ]);
      expect(rows).toEqual([{ owner: admin.id }]);

      // An admin's key without the scope, a user's key, a user's JWT, a supervisor's JWT: invalid.
      const plainAdminKey = await f.apiKey(admin, { permissions: ['usage:write'] });
      const someone = await f.newUser({ credits: 10 });
      const userKey = await f.apiKey(someone);
      expect(userKey.permissions).not.toContain('usage:ingest');
      const supervisor = principal('supervisor');
      for (const auth of [
        { 'X-API-Key': plainAdminKey.key },
        { 'X-API-Key': userKey.key },
        someone.auth,
        supervisor.auth,
      ]) {
        const res = await batch(auth, [ev(uniqueId('no'), 1, { userId: target.id }), ev(uniqueId('own'), 0)]);
        expect(res.status).toBe(200);
        expect(res.body.results[0]).toMatchObject({ status: 'invalid', error: expect.stringMatching(/usage:ingest/) });
        expect(res.body.results[1].status).toBe('created');
      }
      expect((await recordsOf(target.id)).map((r) => r.event_id).filter((e) => e?.startsWith('no-'))).toEqual([]);
    });

    // docs/trust-model.md: a service key holds the privilege itself, whatever later happens to its creator's role
    // (it counted only while the owner was an admin before: a demotion now changes nothing; revoke it).
    it('only an admin may create a key with usage:ingest, and it stops working when its creator is demoted', async () => {
      const user = await f.newUser();
      await t.http
        .post('/api/api-keys')
        .set(user.auth)
        .send({ name: 'sneaky', permissions: ['usage:write', 'usage:ingest'] })
        .expect(403);
      expect((await t.db.query(`SELECT 1 FROM api_keys WHERE user_id = $1`, [user.id])).rows).toEqual([]);

      const formerAdmin = principal('admin', 'former');
      await t.http.get('/api/users/me').set(formerAdmin.auth).expect(200);
      const key = await f.apiKey(formerAdmin, { permissions: ['usage:write', 'usage:ingest'] });
      const before = await batch({ 'X-API-Key': key.key }, [ev('fa-1', 1, { userId: target.id })]).expect(200);
      expect(before.body.results[0].status).toBe('created');
      // A later token with role user demotes the account.
      await t.http
        .get('/api/users/me')
        .set(bearer(token({ sub: formerAdmin.id, role: 'user' })))
        .expect(200);
      // A service key works only while its creator is an admin (docs/api-keys.md): nothing recorded.
      const records = async () =>
        (await t.db.query(`SELECT count(*)::int AS n FROM usage_records WHERE user_id = $1`, [target.id])).rows[0].n;
      const recorded = await records();
      await batch({ 'X-API-Key': key.key }, [ev('fa-2', 1, { userId: target.id })]).expect(401);
      expect(await records()).toBe(recorded);
    });
  });

  describe('eventId on POST /api/usage/record', () => {
    it('a repeat answers the original record with 200 and Idempotent-Replayed, moving nothing', async () => {
      const u = await f.newUser({ credits: 100 });
      const body = ev('single-1', 25);
      const first = await t.http.post('/api/usage/record').set(u.auth).send(body).expect(201);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      expect(first.body).toMatchObject({ userId: u.id, credits: 25 });
      const again = await t.http
        .post('/api/usage/record')
        .set(u.auth)
        .send({ ...body, credits: 30 })
        .expect(200);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);
      expect(await f.available(u.id)).toBe(75);
      expect(await recordsOf(u.id)).toHaveLength(1);
    });

    it('shares one namespace with the batch route, both ways', async () => {
      const u = await f.newUser({ credits: 100 });
      const single = await t.http.post('/api/usage/record').set(u.auth).send(ev('shared-1', 10)).expect(201);
      const fromBatch = await batch(u.auth, [ev('shared-1', 10), ev('shared-2', 5)]).expect(200);
      expect(fromBatch.body.results[0]).toEqual({
        eventId: 'shared-1',
        status: 'duplicate',
        usageRecordId: single.body.id,
      });
      const replay = await t.http.post('/api/usage/record').set(u.auth).send(ev('shared-2', 5)).expect(200);
      expect(replay.body.id).toBe(fromBatch.body.results[1].usageRecordId);
      expect(await f.available(u.id)).toBe(85);
    });

    it('a short balance is a 402 and leaves the id unused', async () => {
      const u = await f.newUser({ credits: 5 });
      await t.http.post('/api/usage/record').set(u.auth).send(ev('short-1', 6)).expect(402);
      await f.grant(u.id, 5);
      await t.http.post('/api/usage/record').set(u.auth).send(ev('short-1', 6)).expect(201);
      expect(await f.available(u.id)).toBe(4);
    });

    it('concurrent repeats of one eventId record once', async () => {
      const u = await f.newUser({ credits: 100 });
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => t.http.post('/api/usage/record').set(u.auth).send(ev('conc-1', 10))),
      );
      expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
      expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
      expect(await f.available(u.id)).toBe(90);
      await expectInvariants(t, users);
    });
  });

  // Ids are kept as long as their events are accepted: 35 days, or LATE_USAGE_DAYS (90 by default)
  // when longer (src/usage/late-usage.spec.ts holds the rule at both ends).
  it('the cleanup job deletes ids older than the late-usage window (90 days), which can then be used again', async () => {
    const u = await f.newUser({ credits: 100 });
    await batch(u.auth, [ev('old-1', 1), ev('old-2', 1), ev('new-1', 1)]).expect(200);
    await t.db.query(
      `UPDATE usage_event_ids SET created_at = now() - interval '91 days' WHERE owner = $1 AND event_id LIKE 'old-%'`,
      [u.id],
    );
    await t.db.query(
      `UPDATE usage_event_ids SET created_at = now() - interval '89 days' WHERE owner = $1 AND event_id = 'new-1'`,
      [u.id],
    );
    const deleted = await t.app.get(UsageEventIdsJob).cleanup();
    expect(deleted).toBeGreaterThanOrEqual(2);
    const { rows } = await t.db.query(`SELECT event_id FROM usage_event_ids WHERE owner = $1 ORDER BY event_id`, [
      u.id,
    ]);
    expect(rows).toEqual([{ event_id: 'new-1' }]);
    const again = await batch(u.auth, [ev('old-1', 1), ev('new-1', 1)]).expect(200);
    expect((again.body.results as Result[]).map((r) => r.status)).toEqual(['created', 'duplicate']);
  });
});
