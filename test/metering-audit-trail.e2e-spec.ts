import { randomUUID } from 'node:crypto';

import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';

import { startTestApp, type TestApp, uniqueId } from './support/app.js';
import { type CreatedApiKey, Fixtures, type FixtureUser, principal, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

// "Metering is its own audit trail": a usage record is written once. The service's
// database role may insert and read records and update only their review state; a record naming
// credits for another account writes no audit_log row, and GET /api/audit answers it from the record.

type Entry = {
  id: string;
  at: string;
  actor: { userId: string; role?: string; via: string; apiKeyId?: string };
  action: string;
  target: { type: string; id: string };
  before: unknown;
  after: Record<string, unknown> | null;
  requestId: string | null;
};

describe('metering is its own audit trail', () => {
  let t: TestApp;
  let f: Fixtures;
  let service: pg.Pool;
  const users: string[] = [];
  // Every audited change of this spec is this admin's: `actor=` keeps the spec's entries apart.
  const admin = principal('admin', 'trail-admin');
  let key: CreatedApiKey;

  beforeAll(async () => {
    t = await startTestApp({ METERING_TRUST: 'service' });
    f = new Fixtures(t, { users, prefix: 'trail', granter: admin.jwt });
    await t.http.get('/api/users/me').set(admin.auth).expect(200);
    key = await f.apiKey(admin, { name: 'trail-gateway', permissions: ['usage:ingest'] });
    service = new pg.Pool({ connectionString: inject('serviceDatabaseUrl'), max: 2 });
  });
  afterEach(() => expectInvariants(t, users));
  afterAll(async () => {
    await service?.end();
    await t?.close();
  });

  const viaKey = () => ({ 'X-API-Key': key.key });
  const named = (u: FixtureUser, credits: number, extra: Record<string, unknown> = {}) =>
    t.http
      .post('/api/usage/record')
      .set(viaKey())
      .send({ userId: u.id, service: 'chat', operation: 'named', credits, ...extra });
  const audit = async (query: string): Promise<{ items: Entry[]; nextCursor: string | null }> =>
    (await t.http.get(`/api/audit?${query}`).set(admin.auth).expect(200)).body;
  const logged = async () =>
    (await t.db.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'usage.record'`)).rows[0].n as number;

  /** Runs `sql` as the service role in a transaction that is rolled back; the error code, or 'ok'. */
  async function asService(sql: string, params: unknown[] = []): Promise<string> {
    const client = await service.connect();
    try {
      await client.query('BEGIN');
      await client.query(sql, params);
      return 'ok';
    } catch (error) {
      return (error as { code?: string }).code ?? String(error);
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
  }

  describe('the database role', () => {
    it('refuses to change what a record says, and to delete it (42501)', async () => {
      const u = await f.newUser({ credits: 20 });
      const res = await named(u, 3).expect(201);
      const id = res.body.id as string;
      const attempts: Record<string, string> = {
        credits: 'credits = 0',
        tokens: 'tokens = 1',
        inputTokens: 'input_tokens = 1',
        outputTokens: 'output_tokens = 1',
        cacheReadTokens: 'cache_read_tokens = 1',
        cacheWriteTokens: 'cache_write_tokens = 1',
        reasoningTokens: 'reasoning_tokens = 1',
        account: `user_id = 'someone-else'`,
        org: `org_id = NULL`,
        apiKeyId: 'api_key_id = NULL',
        actorId: 'actor_id = NULL',
        requestId: 'request_id = NULL',
      };
      const outcomes: Record<string, string> = {};
      for (const [name, set] of Object.entries(attempts)) {
        outcomes[name] = await asService(`UPDATE usage_records SET ${set} WHERE id = $1`, [id]);
      }
      outcomes.delete = await asService(`DELETE FROM usage_records WHERE id = $1`, [id]);
      outcomes.truncate = await asService(`TRUNCATE usage_records`);
      expect(outcomes).toEqual(Object.fromEntries(Object.keys(outcomes).map((name) => [name, '42501'])));
      const { rows } = await t.db.query(`SELECT credits, actor_id FROM usage_records WHERE id = $1`, [id]);
      expect(rows).toEqual([{ credits: 3, actor_id: admin.id }]);
    });

    it('may read and insert records and update their review state', async () => {
      const u = await f.newUser({ credits: 20 });
      const { body } = await named(u, 2).expect(201);
      expect(await asService(`SELECT * FROM usage_records WHERE id = $1`, [body.id])).toBe('ok');
      expect(
        await asService(
          `UPDATE usage_records SET billing_status = 'needs_review', review_status = 'resolved', resolution = 'write_off',
                  resolved_by = 'x', resolved_at = now(), resolution_note = 'n' WHERE id = $1`,
          [body.id],
        ),
      ).toBe('ok');
      expect(
        await asService(
          `INSERT INTO usage_records (user_id, service, operation, credits, account_id) VALUES ($1, 'chat', 'direct', 0, (SELECT account_id FROM accounts WHERE user_id = $1::varchar))`,
          [u.id],
        ),
      ).toBe('ok');
    });

    it('adds to credits only by a collect of an open review, at most its shortfall', async () => {
      const u = await f.newUser({ credits: 20 });
      const { body } = await named(u, 2).expect(201);
      // No review open: the resolve function changes nothing.
      const client = await service.connect();
      try {
        const none = await client.query(`SELECT * FROM usage_record_resolve($1, 'collect', 'x', NULL, 5)`, [body.id]);
        expect(none.rows).toEqual([]);
      } finally {
        client.release();
      }
      await t.db.query(
        `UPDATE usage_records SET billing_status = 'needs_review', shortfall = 3, review_status = 'open' WHERE id = $1`,
        [body.id],
      );
      // More than the shortfall, or credits on a write-off: refused the same way.
      const more = await service.query(`SELECT * FROM usage_record_resolve($1, 'collect', 'x', NULL, 4)`, [body.id]);
      const writeOff = await service.query(`SELECT * FROM usage_record_resolve($1, 'write_off', 'x', NULL, 1)`, [
        body.id,
      ]);
      expect([more.rows, writeOff.rows]).toEqual([[], []]);
      const { rows } = await t.db.query(`SELECT credits, review_status FROM usage_records WHERE id = $1`, [body.id]);
      expect(rows).toEqual([{ credits: 2, review_status: 'open' }]);
      // Put back as it was: this spec's invariants hold the record to what its debits took.
      await t.db.query(
        `UPDATE usage_records SET billing_status = 'billed', shortfall = 0, review_status = NULL WHERE id = $1`,
        [body.id],
      );
    });
  });

  describe('no audit_log row for a record naming credits', () => {
    it('alone, with an eventId, arriving together, and in a batch', async () => {
      const u = await f.newUser({ credits: 100 });
      const before = await logged();
      const alone = await named(u, 1).expect(201);
      const once = await named(u, 2, { eventId: `ev-${randomUUID()}` }).expect(201);
      const together = await Promise.all(Array.from({ length: 6 }, () => named(u, 1)));
      for (const r of together) expect(r.status).toBe(201);
      const batch = await t.http
        .post('/api/usage/records/batch')
        .set(viaKey())
        .send({
          events: [1, 2, 3].map((credits) => ({
            eventId: `b-${randomUUID()}`,
            userId: u.id,
            service: 'chat',
            operation: 'batched',
            credits,
          })),
        })
        .expect(200);
      expect(batch.body.created).toBe(3);
      expect(await logged()).toBe(before);
      // Each is an entry all the same: 1 + 1 + 6 + 3, newest first, each with its request's id.
      const { items } = await audit(`action=usage.record&targetId=${u.id}&limit=500`);
      expect(items).toHaveLength(11);
      const ids = [alone, once, ...together].map((r) => r.body.id as string);
      ids.push(...(batch.body.results as { usageRecordId: string }[]).map((r) => r.usageRecordId));
      expect(new Set(items.map((e) => e.id))).toEqual(new Set(ids));
      expect(items.find((e) => e.id === alone.body.id)!.requestId).toBe(alone.headers['x-request-id']);
      const batchIds = new Set((batch.body.results as { usageRecordId: string }[]).map((r) => r.usageRecordId));
      for (const e of items.filter((e) => batchIds.has(e.id))) expect(e.requestId).toBe(batch.headers['x-request-id']);
      const times = items.map((e) => e.at);
      expect([...times].sort().reverse()).toEqual(times);
      expect(await f.available(u.id)).toBe(100 - 1 - 2 - 6 - 6);
    });

    it('a refused or priced record is no entry, and nothing of it is written', async () => {
      const u = await f.newUser({ credits: 5 });
      await named(u, 50).expect(402);
      const model = `trail-${randomUUID().slice(0, 8)}`;
      await t.http.post('/api/pricing').set(admin.auth).send({ modelId: model, pricePer1kTokens: '1' }).expect(201);
      await t.http
        .post('/api/usage/record')
        .set(viaKey())
        .send({ userId: u.id, service: 'chat', operation: 'priced', modelId: model, tokens: 1000 })
        .expect(201);
      expect((await audit(`action=usage.record&targetId=${u.id}`)).items).toEqual([]);
      const { rows } = await t.db.query(`SELECT credits_named, request_id FROM usage_records WHERE user_id = $1`, [
        u.id,
      ]);
      expect(rows).toEqual([{ credits_named: false, request_id: null }]);
    });
  });

  describe('GET /api/audit answers them from the records', () => {
    it('in the shape of an entry, target the account charged: a user, or an org through its member', async () => {
      const u = await f.newUser({ credits: 50 });
      const mine = await named(u, 4).expect(201);
      const [entry] = (await audit(`targetType=user&targetId=${u.id}&action=usage.record`)).items;
      expect(entry).toEqual({
        id: mine.body.id,
        at: mine.body.timestamp,
        actor: { userId: admin.id, via: 'api-key', apiKeyId: key.id },
        action: 'usage.record',
        target: { type: 'user', id: u.id },
        before: null,
        after: { credits: 4, service: 'chat', operation: 'named' },
        requestId: mine.headers['x-request-id'],
      });

      const m = await f.newUser();
      const orgId = uniqueId('trail-org').toLowerCase();
      await t.db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'admin')`, [orgId]);
      await t.db.query(`INSERT INTO org_members (org_id, user_id, role) VALUES ($1, $2, 'member')`, [orgId, m.id]);
      await t.db.query(
        `SELECT 1 FROM credits_grant((SELECT account_id FROM accounts WHERE org_id = $1::varchar), 30, 'admin', now() + interval '30 days', NULL, 'manual', NULL, NULL, NULL,
                                     false)`,
        [orgId],
      );
      // An admin's token this time: via jwt, no key.
      const forOrg = await t.http
        .post('/api/usage/record')
        .set(admin.auth)
        .send({ userId: m.id, orgId, service: 'chat', operation: 'org', credits: 6 })
        .expect(201);
      const byOrg = (await audit(`targetType=org&targetId=${orgId}`)).items;
      expect(byOrg).toEqual([
        expect.objectContaining({
          id: forOrg.body.id,
          actor: { userId: admin.id, via: 'jwt' },
          target: { type: 'org', id: orgId },
          after: { credits: 6, service: 'chat', operation: 'org' },
        }),
      ]);
      // The member is not the target, and a type the records are not (usage_record) finds none of them.
      expect((await audit(`targetType=user&targetId=${m.id}&action=usage.record`)).items).toEqual([]);
      expect((await audit(`targetId=${orgId}`)).items.map((e) => e.id)).toEqual([forOrg.body.id]);
      expect((await audit(`targetType=usage_record&targetId=${forOrg.body.id}`)).items).toEqual([]);
      await t.db.query(`UPDATE org_members SET removed_at = now() WHERE org_id = $1`, [orgId]);
    });

    it('newest first among the other entries, filtered alike, paged across both', async () => {
      const actor = principal('admin', 'trail-actor');
      await t.http.get('/api/users/me').set(actor.auth).expect(200);
      const g = new Fixtures(t, { users, prefix: 'trail', granter: tokenFor('admin', actor.id) });
      const u = await g.newUser({ credits: 10 }); // credits.allocate by `actor`
      const recordBy = () =>
        t.http
          .post('/api/usage/record')
          .set(actor.auth)
          .send({ userId: u.id, service: 's', operation: 'o', credits: 1 });
      const r1 = (await recordBy().expect(201)).body;
      const a2 = await g.grant(u.id, 5);
      const r2 = (await recordBy().expect(201)).body;
      const a3 = await g.grant(u.id, 5);

      const all = (await audit(`actor=${actor.id}`)).items;
      expect(all.map((e) => [e.action, e.target.type === 'allocation' ? e.target.id : e.id])).toEqual([
        ['credits.allocate', a3.id],
        ['usage.record', r2.id],
        ['credits.allocate', a2.id],
        ['usage.record', r1.id],
        ['credits.allocate', u.allocationIds[0]],
      ]);
      // Paged one at a time: the same entries, in the same order, each once.
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: Entry[]; nextCursor: string | null } = await audit(
          `actor=${actor.id}&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        );
        paged.push(...page.items.map((e) => e.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(paged).toEqual(all.map((e) => e.id));
      const two = await audit(`actor=${actor.id}&limit=2`);
      const rest = await audit(`actor=${actor.id}&limit=2&cursor=${two.nextCursor}`);
      expect([...two.items, ...rest.items].map((e) => e.id)).toEqual(all.slice(0, 4).map((e) => e.id));

      expect((await audit(`actor=${actor.id}&action=usage.record`)).items.map((e) => e.id)).toEqual([r2.id, r1.id]);
      expect((await audit(`actor=${actor.id}&action=credits.allocate`)).items).toHaveLength(3);
      // `from`/`to` as shown: a time read from an entry finds it, a millisecond later does not.
      const shown = all[1].at;
      const later = new Date(Date.parse(shown) + 1).toISOString();
      expect((await audit(`actor=${actor.id}&action=usage.record&to=${shown}`)).items.map((e) => e.id)).toEqual([
        r2.id,
        r1.id,
      ]);
      expect((await audit(`actor=${actor.id}&action=usage.record&from=${shown}`)).items.map((e) => e.id)).toEqual([
        r2.id,
      ]);
      expect((await audit(`actor=${actor.id}&action=usage.record&from=${later}`)).items).toEqual([]);
      // Another actor sees none of them.
      expect((await audit(`actor=${admin.id}&targetId=${u.id}`)).items).toEqual([]);
    });
  });
});
