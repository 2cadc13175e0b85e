import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { CoalescedKeyLookups } from '../src/api-keys/coalesced-key-lookups.js';
import { startTestApp, type TestApp } from './support/app.js';
import { type CreatedApiKey, Fixtures, principal } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';
import { recordSent } from './support/statements.js';

/**
 * The lookups of API keys presented together share one statement (docs/api-keys.md "Every request
 * looks its key up"), and nothing else changes: each request is answered as its own key says, and
 * a revocation committed before a request refuses that request, whatever lookups are in flight.
 */
describe('API-key lookups that arrive together', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const unknownKey = `acs_live_${'A'.repeat(43)}`;

  beforeAll(async () => {
    t = await startTestApp({ METERING_TRUST: 'service', JOBS_ENABLED: 'false' });
    f = new Fixtures(t, { users, prefix: 'lookups' });
  });
  afterAll(() => t.close());
  afterEach(async () => {
    await expectInvariants(t, users);
  });

  const balanceWith = (key: string) => t.http.get('/api/credits/balance').set({ 'X-API-Key': key });

  it('share a statement, and each request is answered as its own key says', async () => {
    const alice = await f.newUser({ credits: 70 });
    const bob = await f.newUser({ credits: 90 });
    const aliceKey = await f.apiKey(alice, { permissions: ['credits:read'] });
    const bobKey = await f.apiKey(bob, { permissions: ['credits:read'] });
    const keys = Array.from({ length: 48 }, (_, i) => [aliceKey.key, bobKey.key, unknownKey][i % 3]);
    const lookups = t.app.get(CoalescedKeyLookups);

    // The key table locked: the first lookups wait in their statements, the others queue behind them.
    const lock = await t.db.connect();
    const { result, sent } = await recordSent(async () => {
      try {
        await lock.query('BEGIN');
        await lock.query('LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE');
        const answers = Promise.all(keys.map((key) => balanceWith(key)));
        await vi.waitFor(() => expect(lookups.pending).toBe(keys.length), { timeout: 30_000, interval: 20 });
        await lock.query('COMMIT');
        return await answers;
      } finally {
        lock.release();
      }
    });

    result.forEach((res, i) => {
      if (keys[i] === unknownKey) {
        expect(res.status).toBe(401);
        expect(res.body.message).toBe('Invalid API key');
      } else {
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        const owner = keys[i] === aliceKey.key ? alice : bob;
        expect(res.body).toMatchObject({ userId: owner.id, totalCredits: owner === alice ? 70 : 90 });
      }
    });
    const statements = sent.filter((s) => s.name?.startsWith('api_key_authentication'));
    // A statement a request would be 48: two went out before the lock was let go, the rest queued
    // behind them and went out together.
    expect(statements.length).toBeGreaterThan(0);
    expect(statements.length).toBeLessThanOrEqual(3);
  });

  it('refuses every request sent after a revocation committed, while other lookups are in flight', async () => {
    const target = await f.newUser({ credits: 100_000 });
    const admin = principal('admin', 'lookups-admin');
    await t.http.get('/api/users/me').set(admin.auth).expect(200);
    const key: CreatedApiKey = await f.apiKey(admin, { name: 'gateway', permissions: ['usage:ingest'] });
    const record = () =>
      t.http
        .post('/api/usage/record')
        .set({ 'X-API-Key': key.key })
        .send({ userId: target.id, service: 'chat', operation: 'c', credits: 1 });

    // Traffic that keeps lookups of this key in flight until it is refused.
    let accepted = 0;
    const traffic = Array.from({ length: 16 }, async () => {
      for (;;) {
        const res = await record();
        if (res.status !== 201) return res.status;
        accepted += 1;
      }
    });
    while (accepted < 64) await new Promise((resolve) => setImmediate(resolve));

    await t.db.query(`UPDATE api_keys SET revoked_at = now() WHERE id = $1`, [key.id]);
    const after = await Promise.all(Array.from({ length: 32 }, () => record()));

    expect(after.map((res) => res.status)).toEqual(Array(32).fill(401));
    expect(after[0].body.message).toBe('API key revoked');
    expect(await Promise.all(traffic)).toEqual(Array(16).fill(401));
    // Every credit taken belongs to a request that was answered 201.
    expect(await f.available(target.id)).toBe(100_000 - accepted);
  });
});
