import { randomUUID } from 'node:crypto';

import { RequestMethod } from '@nestjs/common';
import { INTERCEPTORS_METADATA, METHOD_METADATA } from '@nestjs/common/constants.js';
import { ModulesContainer } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { IdempotencyInterceptor } from '../src/idempotency/idempotency.interceptor.js';
import { IdempotencyStore } from '../src/idempotency/idempotency.service.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { Fixtures } from './support/fixtures.js';
import { recordStatements } from './support/statements.js';

describe('Idempotency-Key', () => {
  let t: TestApp;
  const admin = token({ sub: uniqueId('idem-admin'), role: 'admin' });
  let f: Fixtures;

  async function effects(userId: string) {
    const r = await t.db.query(
      `SELECT (SELECT count(*)::int FROM usage_records WHERE user_id = $1) AS records,
              (SELECT count(*)::int FROM credit_ledger WHERE member_id = $1 AND kind = 'debit') AS debits,
              (SELECT COALESCE(sum(remaining_credits), 0)::int FROM credit_allocations WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)) AS remaining`,
      [userId],
    );
    return r.rows[0] as { records: number; debits: number; remaining: number };
  }

  const record = (jwt: string, key: string | undefined, body: object) => {
    const req = t.http.post('/api/usage/record').set(bearer(jwt));
    return key === undefined ? req.send(body) : req.set('Idempotency-Key', key).send(body);
  };

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { granter: admin, prefix: 'idem' });
  });
  afterAll(() => t.close());

  it('replays the first response for the same key and body; the effect happens once', async () => {
    const u = await f.newUser({ credits: 100 });
    const key = randomUUID();
    const body = { service: 'chat', operation: 'completion', credits: 10, metadata: { a: 1, b: 2 } };
    const first = await record(u.jwt, key, body).expect(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    // Same body with keys in another order is the same request.
    const again = await record(u.jwt, key, {
      metadata: { b: 2, a: 1 },
      credits: 10,
      operation: 'completion',
      service: 'chat',
    }).expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await effects(u.id)).toEqual({ records: 1, debits: 1, remaining: 90 });
    const stored = await t.db.query(`SELECT principal, status_code FROM idempotency_keys WHERE key = $1`, [key]);
    expect(stored.rows).toEqual([{ principal: `user:${u.id}`, status_code: 201 }]);
    // The effect and the stored response were written by the same transaction (same xmin).
    const xmins = await t.db.query(
      `SELECT (SELECT xmin::text FROM usage_records WHERE id = $1) AS record,
              (SELECT xmin::text FROM credit_ledger WHERE usage_record_id = $1) AS ledger,
              (SELECT xmin::text FROM idempotency_keys WHERE key = $2) AS key`,
      [first.body.id, key],
    );
    expect(xmins.rows[0].record).toBe(xmins.rows[0].key);
    expect(xmins.rows[0].ledger).toBe(xmins.rows[0].key);
  });

  it('422 when the key is reused with another body or on another route; nothing happens', async () => {
    const u = await f.newUser({ credits: 100 });
    const key = randomUUID();
    await record(u.jwt, key, { service: 'chat', operation: 'completion', credits: 10 }).expect(201);
    const res = await record(u.jwt, key, { service: 'chat', operation: 'completion', credits: 11 }).expect(422);
    expect(res.body).toMatchObject({ statusCode: 422, error: 'Unprocessable Entity' });
    await t.http
      .post('/api/credits/check')
      .set(bearer(u.jwt))
      .set('Idempotency-Key', key)
      .send({ service: 'chat', operation: 'completion', credits: 10 })
      .expect(422);
    expect(await effects(u.id)).toEqual({ records: 1, debits: 1, remaining: 90 });
  });

  it('another user reusing the same key is independent', async () => {
    const a = await f.newUser({ credits: 100 });
    const b = await f.newUser({ credits: 100 });
    const key = `shared-${randomUUID()}`;
    const body = { service: 'chat', operation: 'completion', credits: 7 };
    const ra = await record(a.jwt, key, body).expect(201);
    const rb = await record(b.jwt, key, body).expect(201);
    expect(rb.headers['idempotent-replayed']).toBeUndefined();
    expect(rb.body.userId).toBe(b.id);
    expect(rb.body.id).not.toBe(ra.body.id);
    expect(await effects(a.id)).toEqual({ records: 1, debits: 1, remaining: 93 });
    expect(await effects(b.id)).toEqual({ records: 1, debits: 1, remaining: 93 });
  });

  it('20 concurrent identical requests with one key: exactly one record and one debit', async () => {
    const u = await f.newUser({ credits: 1000 });
    const key = randomUUID();
    const body = { service: 'chat', operation: 'burst', credits: 5 };
    const results = await Promise.all(Array.from({ length: 20 }, () => record(u.jwt, key, body)));
    const statuses = results.map((r) => r.status);
    // Each answer is the effect (201), its replay (201 + header) or "still in flight" (409).
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    const created = results.filter((r) => r.status === 201);
    expect(created.filter((r) => r.headers['idempotent-replayed'] !== 'true')).toHaveLength(1);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
    expect(await effects(u.id)).toEqual({ records: 1, debits: 1, remaining: 995 });
    // Once settled, the key replays.
    const later = await record(u.jwt, key, body).expect(201);
    expect(later.headers['idempotent-replayed']).toBe('true');
    expect(later.body.id).toBe(created[0].body.id);
  });

  it('only successful answers are stored: a 402 rolls back with its key, and the key can be retried', async () => {
    const u = await f.newUser({ credits: 5 });
    const key = randomUUID();
    const body = { service: 'chat', operation: 'completion', credits: 8 };
    await record(u.jwt, key, body).expect(402);
    expect((await t.db.query(`SELECT 1 FROM idempotency_keys WHERE key = $1`, [key])).rowCount).toBe(0);
    await f.grant(u.id, 10);
    const retry = await record(u.jwt, key, body).expect(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(retry.body.credits).toBe(8);
    expect(await effects(u.id)).toMatchObject({ records: 1, remaining: 7 });
  });

  it('400 for an empty or over-long key', async () => {
    const u = await f.newUser({ credits: 100 });
    await record(u.jwt, 'k'.repeat(256), { service: 'chat', operation: 'c', credits: 1 }).expect(400);
    await record(u.jwt, '', { service: 'chat', operation: 'c', credits: 1 }).expect(400);
    await record(u.jwt, 'k'.repeat(255), { service: 'chat', operation: 'c', credits: 1 }).expect(201);
    expect(await effects(u.id)).toMatchObject({ records: 1 });
  });

  it('requests without a key are not deduplicated', async () => {
    const u = await f.newUser({ credits: 100 });
    const body = { service: 'chat', operation: 'c', credits: 1 };
    await record(u.jwt, undefined, body).expect(201);
    await record(u.jwt, undefined, body).expect(201);
    expect(await effects(u.id)).toMatchObject({ records: 2, debits: 2 });
  });

  it('never stores a redacted secret (a new API key): the replay shows null', async () => {
    const u = await f.newUser();
    const key = randomUUID();
    const first = await t.http
      .post('/api/api-keys')
      .set(bearer(u.jwt))
      .set('Idempotency-Key', key)
      .send({ name: 'ci' })
      .expect(201);
    expect(typeof first.body.key).toBe('string');
    const stored = await t.db.query(`SELECT response_body FROM idempotency_keys WHERE key = $1`, [key]);
    expect(stored.rows[0].response_body.key).toBeNull();
    expect(JSON.stringify(stored.rows[0].response_body)).not.toContain(first.body.key);
    const replay = await t.http
      .post('/api/api-keys')
      .set(bearer(u.jwt))
      .set('Idempotency-Key', key)
      .send({ name: 'ci' })
      .expect(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual({ ...first.body, key: null });
    const keys = await t.db.query(`SELECT count(*)::int AS n FROM api_keys WHERE user_id = $1`, [u.id]);
    expect(keys.rows[0].n).toBe(1);
  });

  it('the cleanup job deletes keys older than 24 hours and keeps younger ones', async () => {
    const u = await f.newUser({ credits: 100 });
    const old = randomUUID();
    const young = randomUUID();
    await record(u.jwt, old, { service: 'chat', operation: 'c', credits: 1 }).expect(201);
    await record(u.jwt, young, { service: 'chat', operation: 'c', credits: 1 }).expect(201);
    await t.db.query(`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = $1`, [old]);
    await t.db.query(`UPDATE idempotency_keys SET created_at = now() - interval '23 hours' WHERE key = $1`, [young]);
    await t.app.get(IdempotencyStore).cleanup();
    const left = await t.db.query(`SELECT key FROM idempotency_keys WHERE key = ANY($1)`, [[old, young]]);
    expect(left.rows).toEqual([{ key: young }]);
  });

  it('every POST documents the optional Idempotency-Key header', async () => {
    const doc = await t.http.get('/api/docs-json').expect(200);
    const posts = Object.values(
      doc.body.paths as Record<string, { post?: { parameters?: { name: string; in: string; required?: boolean }[] } }>,
    )
      .map((p) => p.post)
      .filter((p) => p !== undefined);
    expect(posts.length).toBeGreaterThan(3);
    for (const post of posts) {
      expect(post!.parameters).toEqual(
        expect.arrayContaining([expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: false })]),
      );
    }
  });

  it('the interceptor is on every POST handler and on no other route', async () => {
    const routes: { method: string; path: string; idempotent: boolean }[] = [];
    for (const module of t.app.get(ModulesContainer).values()) {
      for (const { metatype } of module.controllers.values()) {
        const prototype = (metatype as { prototype: Record<string, unknown> }).prototype;
        for (const name of Object.getOwnPropertyNames(prototype)) {
          const handler = prototype[name];
          if (typeof handler !== 'function') continue;
          const method: RequestMethod | undefined = Reflect.getMetadata(METHOD_METADATA, handler);
          if (method === undefined) continue;
          const interceptors: unknown[] = Reflect.getMetadata(INTERCEPTORS_METADATA, handler) ?? [];
          routes.push({
            method: RequestMethod[method],
            path: `${(metatype as { name: string }).name}.${name}`,
            idempotent: interceptors.includes(IdempotencyInterceptor),
          });
        }
      }
    }
    expect(routes.filter((r) => r.method === 'POST').length).toBeGreaterThan(15);
    expect(routes.filter((r) => r.method === 'GET').length).toBeGreaterThan(15);
    for (const r of routes) expect(r, `${r.method} ${r.path}`).toMatchObject({ idempotent: r.method === 'POST' });
  });

  it('a GET answers without opening a transaction, even with an Idempotency-Key', async () => {
    const u = await f.newUser({ credits: 7 });
    const { result, statements } = await recordStatements(() =>
      t.http.get('/api/credits/balance').set(bearer(u.jwt)).set('Idempotency-Key', randomUUID()),
    );
    expect(result.status).toBe(200);
    expect(result.body.totalCredits).toBe(7);
    expect(statements).toHaveLength(1);
    expect(statements[0]).not.toMatch(/^(BEGIN|START TRANSACTION)/i);
  });
});
