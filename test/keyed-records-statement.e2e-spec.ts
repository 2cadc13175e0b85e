import { randomUUID } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';
import { expectOrgInvariants } from './support/org-invariants.js';

/**
 * A record with an `Idempotency-Key` goes with the records that arrive with it (docs/usage.md
 * "Idempotency (every POST)"): the statement that writes it takes the key's lock, finds an answer stored for the
 * key, and stores the record's answer in the same commit. The key's promises stay those of every
 * POST: one effect, the answer sent again, 409 while in flight, 422 for another request.
 */
describe('records with an Idempotency-Key, in the statement that writes them', () => {
  let t: TestApp;
  const users: string[] = [];
  const orgs: string[] = [];
  let f: Fixtures;
  const admin = bearer(tokenFor('admin', 'keyed-statement-admin'));

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'ks' });
  });
  afterEach(async () => {
    await expectInvariants(t, users);
    await expectOrgInvariants(t, orgs);
  });
  afterAll(() => t.close());

  const record = (app: TestApp, auth: Record<string, string>, key: string, body: Record<string, unknown>) =>
    app.http
      .post('/api/usage/record')
      .set(auth)
      .set('Idempotency-Key', key)
      .send({ service: 'keyed', operation: 'op', credits: 1, ...body });
  const storedKey = async (key: string) =>
    (await t.db.query(`SELECT status_code, response_body, path, method FROM idempotency_keys WHERE key = $1`, [key]))
      .rows;

  it('fresh keys of many users share statements; each answer is stored with its record and sent again', async () => {
    const us = await Promise.all(Array.from({ length: 6 }, () => f.newUser({ credits: [20] })));
    const sent = us.flatMap((u) =>
      Array.from({ length: 5 }, (_, i) => {
        const key = randomUUID();
        // Bodies whose answers take what the statement decides (time, metadata) and what it does not.
        const body =
          i % 2
            ? { credits: 2, metadata: { turn: i, nested: { a: [1, 'x'] } } }
            : { credits: 3, occurredAt: new Date(Date.now() - 60_000).toISOString() };
        return { u, key, body };
      }),
    );
    const answers = await Promise.all(sent.map(async (s) => ({ ...s, res: await record(t, s.u.auth, s.key, s.body) })));
    for (const a of answers) {
      expect(a.res.status).toBe(201);
      expect(a.res.headers['idempotent-replayed']).toBeUndefined();
      // The stored answer is the answer sent, and the record it names is the one written.
      const [stored] = await storedKey(a.key);
      expect(stored).toMatchObject({ status_code: 201, method: 'POST', path: '/api/usage/record' });
      expect(stored.response_body).toEqual(a.res.body);
    }
    for (const u of us) expect(await f.available(u.id)).toBe(20 - 2 * 2 - 3 * 3);
    // They went together: some transaction wrote more than one of these records' debits.
    const { rows } = await t.db.query(
      `SELECT count(*)::int AS n FROM credit_ledger WHERE usage_record_id = ANY($1) AND kind = 'debit' GROUP BY xmin`,
      [answers.map((a) => a.res.body.id)],
    );
    expect(Math.max(...rows.map((r: { n: number }) => r.n))).toBeGreaterThan(1);
    // Each sent again: the same answer, 201 and replayed, nothing charged.
    const again = await Promise.all(answers.map((a) => record(t, a.u.auth, a.key, a.body)));
    again.forEach((r, i) => {
      expect(r.status).toBe(201);
      expect(r.headers['idempotent-replayed']).toBe('true');
      expect(r.body).toEqual(answers[i].res.body);
    });
    for (const u of us) expect(await f.available(u.id)).toBe(7);
  });

  it('a key sent many times at once, to two instances: one record, the rest in flight or replayed', async () => {
    const b = await startTestApp();
    try {
      const u = await f.newUser({ credits: [100] });
      const keys = Array.from({ length: 4 }, () => randomUUID());
      const answers = await Promise.all(
        keys.flatMap((key) =>
          Array.from({ length: 6 }, async (_, i) => ({
            key,
            res: await record(i % 2 ? b : t, u.auth, key, { credits: 5 }),
          })),
        ),
      );
      for (const key of keys) {
        const mine = answers.filter((a) => a.key === key).map((a) => a.res);
        expect(mine.every((r) => r.status === 201 || r.status === 409)).toBe(true);
        const made = mine.filter((r) => r.status === 201 && r.headers['idempotent-replayed'] !== 'true');
        expect(made).toHaveLength(1);
        for (const r of mine.filter((x) => x.status === 201)) expect(r.body).toEqual(made[0].body);
        for (const r of mine.filter((x) => x.status === 409)) expect(r.body.code).toBe('IDEMPOTENCY_IN_FLIGHT');
      }
      expect(await f.available(u.id)).toBe(100 - 4 * 5);
    } finally {
      await b.close();
    }
  });

  it('a key with another body is 422 and charges nothing; a refused record stores no answer', async () => {
    const u = await f.newUser({ credits: [10] });
    const key = randomUUID();
    await record(t, u.auth, key, { credits: 4 }).expect(201);
    const reused = await record(t, u.auth, key, { credits: 5 }).expect(422);
    expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await f.available(u.id)).toBe(6);
    // Refused (402): no answer stored, so the key records once the account can pay.
    const later = randomUUID();
    await record(t, u.auth, later, { credits: 9 }).expect(402);
    expect(await storedKey(later)).toEqual([]);
    await f.grant(u.id, 3);
    await record(t, u.auth, later, { credits: 9 }).expect(201);
    expect(await f.available(u.id)).toBe(0);
  });

  it('a key whose eventId was used before answers the first record (200), stored for the key', async () => {
    const u = await f.newUser({ credits: [10] });
    const eventId = randomUUID();
    const first = await record(t, u.auth, randomUUID(), { eventId, credits: 2 }).expect(201);
    const key = randomUUID();
    const dup = await record(t, u.auth, key, { eventId, credits: 2 }).expect(200);
    expect(dup.headers['idempotent-replayed']).toBe('true');
    expect(dup.body).toEqual(first.body);
    expect(await storedKey(key)).toMatchObject([{ status_code: 200, response_body: first.body }]);
    const again = await record(t, u.auth, key, { eventId, credits: 2 }).expect(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await f.available(u.id)).toBe(8);
  });

  it("a retry answers the key's first answer even when its request would now be refused", async () => {
    const [owner, m] = [await f.newUser(), await f.newUser()];
    const orgId = uniqueId('ks').toLowerCase();
    orgs.push(orgId);
    await t.http.post('/api/orgs').set(admin).send({ orgId, name: 'Keyed Ltd', ownerUserId: owner.id }).expect(201);
    await t.http.put(`/api/orgs/${orgId}/members/${m.id}`).set(owner.auth).send({ role: 'member' }).expect(200);
    await t.http.post('/api/credits/allocate').set(admin).send({ orgId, credits: 50, expiryDays: 30 }).expect(201);
    const key = randomUUID();
    const first = await record(t, m.auth, key, { orgId, credits: 4 }).expect(201);
    await t.http.delete(`/api/orgs/${orgId}/members/${m.id}`).set(owner.auth).expect(200);
    // No longer a member: a new key is refused, the used one answers what it answered.
    const refused = await record(t, m.auth, randomUUID(), { orgId, credits: 4 });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    const again = await record(t, m.auth, key, { orgId, credits: 4 }).expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    // And another body on that key is still 422, whatever the handler would say.
    expect((await record(t, m.auth, key, { orgId, credits: 5 })).status).toBe(422);
  });
});
