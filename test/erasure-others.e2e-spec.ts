import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EmailWorker } from '../src/notifications/email.worker.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';

/**
 * An erasure changes only the erased account's rows (docs/erasure.md "Only the account's own rows"),
 * whatever the person's claims were: here their usernames are another user's id and common values,
 * and their emails the end of other people's addresses. On a database of its own: the snapshots
 * compare whole tables.
 */
const adminId = uniqueId('oadmin');
const admin = bearer(token({ sub: adminId, role: 'admin' }));
const tag = randomUUID().slice(0, 8);

interface Person {
  id: string;
  email: string;
  username: string;
}
const person = (prefix: string, email: string, username?: string): Person => {
  const id = uniqueId(prefix);
  return { id, email, username: username ?? id };
};
const bob = person('bob', `bob-${tag}@example.com`);
// Addresses that end with, or start with, an erased person's address: never theirs.
const alice = person('alice', `alice-e-${tag}@example.com`);
const carol = person('carol', `m-${tag}@example.com.au`);
const dave = person('dave', `dave.u-${tag}@example.com`);
// The erased: a username equal to bob's id, to a grant's `source` and to a currency.
const eve = person('eve', `e-${tag}@example.com`, bob.id);
const mona = person('mona', `m-${tag}@example.com`, 'manual');
const ursula = person('ursula', `U-${tag}@Example.com`, 'usd');
const others = [bob, alice, carol, dave];
const erased = [eve, mona, ursula];
const jwtOf = (p: Person) => bearer(token({ sub: p.id, email: p.email, username: p.username }));

/** Every row of the others' audit entries, events, stored answers and emails, as text. */
async function othersRows(own: OwnDatabase): Promise<Record<string, string[]>> {
  const ids = others.map((p) => p.id);
  const gone = erased.map((p) => p.id);
  const rows = async (sql: string, params: unknown[]) =>
    (await own.db.query<{ r: string }>(sql, params)).rows.map((r) => r.r);
  return {
    audit: await rows(
      `SELECT row_to_json(a)::text AS r FROM audit_log a
        WHERE a.actor_user_id = ANY($1) OR a.target_id = ANY($1) OR a.after ->> 'userId' = ANY($1) ORDER BY a.id`,
      [ids],
    ),
    events: await rows(`SELECT row_to_json(e)::text AS r FROM events e WHERE e.user_id = ANY($1) ORDER BY e.id`, [ids]),
    answers: await rows(
      `SELECT row_to_json(i)::text AS r FROM idempotency_keys i
        WHERE NOT i.principal = ANY(SELECT 'user:' || g FROM unnest($1::text[]) g) ORDER BY i.principal, i.key`,
      [gone],
    ),
    emails: await rows(
      `SELECT row_to_json(m)::text AS r FROM email_notifications m WHERE m.user_id = ANY($1) ORDER BY m.id`,
      [ids],
    ),
  };
}

describe('an erasure changes only the erased account', () => {
  let own: OwnDatabase;
  let t: TestApp;
  let before: Record<string, string[]>;
  let eveKey: string;
  let evePortal: string;
  let eveRecord: string;
  const planId = `plan-${tag}`;
  const featureKey = `feature-${tag}`;

  beforeAll(async () => {
    own = await ownDatabase('erasure_others');
    t = await startTestApp({
      DATABASE_URL: own.url,
      JOBS_ENABLED: 'false',
      SMTP_URL: '',
      EMAIL_WORKER_ENABLED: 'false',
      LOW_BALANCE_THRESHOLDS: '50',
    });
    await t.http.get('/api/users/me').set(admin).expect(200);
    await t.http
      .post('/api/webhooks')
      .set(admin)
      .send({ url: 'https://hooks.example.com/o', events: ['*'] })
      .expect(201);
    await t.http
      .post('/api/plans')
      .set(admin)
      .send({ id: planId, name: 'P', credits: 10, period: 'month' })
      .expect(201);
    await t.http.post('/api/features').set(admin).send({ featureKey, name: 'F', type: 'boolean' }).expect(201);
    for (const p of [...others, ...erased]) {
      await t.http.get('/api/users/me').set(jwtOf(p)).expect(200);
      // A grant stored under the admin's principal, a spend under the person's, each retried alike.
      await t.http
        .post('/api/credits/allocate')
        .set(admin)
        .set('Idempotency-Key', `grant-${p.id}`)
        .send({ userId: p.id, credits: 100, value: { amount: '10.00', currency: 'usd' }, notes: `for ${p.id}` })
        .expect(201);
      const spent = await t.http
        .post('/api/usage/record')
        .set(jwtOf(p))
        .set('Idempotency-Key', `spend-${p.id}`)
        .send({ service: 'chat', operation: 'c', credits: 60, metadata: { source: 'manual', currency: 'usd' } })
        .expect(201);
      if (p === eve) eveRecord = spent.body.id as string;
    }
    // The low-balance emails (60 of 100 spent, threshold 50), kept (no SMTP_URL).
    expect(await t.app.get(EmailWorker).runDue()).toBeGreaterThanOrEqual(7);
    // A budget of the same id in bob's account and eve's, both scoped by eve's address: bob's stays.
    for (const p of [bob, eve])
      await t.http
        .post('/api/budgets')
        .set(admin)
        .send({ budgetId: 'shared', userId: p.id, scope: { kind: 'project', id: eve.email }, limitCredits: 10 })
        .expect(201);
    eveKey = (await t.http.post('/api/api-keys').set(jwtOf(eve)).send({ name: 'laptop' }).expect(201)).body.key;
    evePortal = (await t.http.post('/api/portal/sessions').set(admin).send({ userId: eve.id }).expect(201)).body.token;

    before = await othersRows(own);
    // What the erasures could have touched: bob's id, `manual`, `usd` and the addresses are all there.
    const all = Object.values(before).flat().join('\n');
    for (const text of [`"${bob.id}"`, '"manual"', '"usd"', alice.email, carol.email, dave.email])
      expect(all, text).toContain(text);
    expect(before.emails.length).toBeGreaterThanOrEqual(4);
    for (const p of erased) {
      const res = await t.http.post(`/api/users/${p.id}/erasure`).set(admin).send({ reason: 'Asked' });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
  }, 180_000);

  afterAll(async () => {
    await t?.close();
    await own?.drop();
  });

  it("changes no byte of the others' audit entries, events, stored answers or emails", async () => {
    const after = await othersRows(own);
    for (const table of Object.keys(before)) expect(after[table], table).toEqual(before[table]);
    const { rows: budgets } = await own.db.query(
      `SELECT a.user_id, b.scope_id FROM credit_budgets b JOIN accounts a ON a.account_id = b.account_id
        WHERE b.budget_id = 'shared' ORDER BY a.user_id = $1`,
      [eve.id],
    );
    expect(budgets).toEqual([
      { user_id: bob.id, scope_id: eve.email },
      { user_id: eve.id, scope_id: '[erased]' },
    ]);
    // A replay of bob's grant answers what it answered.
    const replay = await t.http
      .post('/api/credits/allocate')
      .set(admin)
      .set('Idempotency-Key', `grant-${bob.id}`)
      .send({ userId: bob.id, credits: 100, value: { amount: '10.00', currency: 'usd' }, notes: `for ${bob.id}` });
    expect(replay.status).toBe(201);
    expect(replay.body).toMatchObject({ userId: bob.id });
  });

  it('in their own rows too, a value merely equal to the username stays; their emails are empty', async () => {
    const { rows: emails } = await own.db.query(
      `SELECT to_address, subject FROM email_notifications WHERE user_id = ANY($1)`,
      [erased.map((p) => p.id)],
    );
    expect(emails.length).toBeGreaterThanOrEqual(3);
    expect(emails.every((e) => e.to_address === null && e.subject === null)).toBe(true);
    // Mona ("manual") and Ursula ("usd"): their records' metadata and stored answers keep both values.
    for (const [p, value] of [
      [mona, 'manual'],
      [ursula, 'usd'],
    ] as const) {
      const { rows } = await own.db.query(
        `SELECT (SELECT metadata FROM usage_records WHERE user_id = $1) AS metadata,
                (SELECT response_body -> 'metadata' FROM idempotency_keys WHERE principal = 'user:' || $1) AS answered`,
        [p.id],
      );
      expect(rows[0], value).toEqual({
        metadata: { source: 'manual', currency: 'usd' },
        answered: { source: 'manual', currency: 'usd' },
      });
    }
  });

  it("an erased account's key and portal token → 401", async () => {
    await t.http.get('/api/credits/balance').set('X-API-Key', eveKey).expect(401);
    await t.http.get('/api/credits/balance').set(bearer(evePortal)).expect(401);
    const { rows } = await own.db.query(
      `SELECT count(*) FILTER (WHERE revoked_at IS NULL)::int AS live FROM api_keys WHERE user_id = $1`,
      [eve.id],
    );
    expect(rows[0].live).toBe(0);
  });

  it('every write naming an erased account → 409 ACCOUNT_ERASED, and changes nothing', async () => {
    const balance = async () =>
      (await t.http.get(`/api/credits/balance?userId=${eve.id}`).set(admin).expect(200)).body as unknown;
    const was = await balance();
    const writes: [string, () => Promise<{ status: number; body: { code?: string } }>][] = [
      [
        'metering',
        () =>
          t.http
            .post('/api/usage/record')
            .set(admin)
            .send({ userId: eve.id, service: 'chat', operation: 'c', credits: 1 }),
      ],
      ['grant', () => t.http.post('/api/credits/allocate').set(admin).send({ userId: eve.id, credits: 5 })],
      [
        'transfer in',
        () =>
          t.http
            .post('/api/credits/transfers')
            .set(admin)
            .send({ from: { userId: bob.id }, to: { userId: eve.id }, credits: 1 }),
      ],
      [
        'transfer out',
        () =>
          t.http
            .post('/api/credits/transfers')
            .set(admin)
            .send({ from: { userId: eve.id }, to: { userId: bob.id }, credits: 1 }),
      ],
      ['subscription', () => t.http.put(`/api/users/${eve.id}/subscription`).set(admin).send({ planId })],
      [
        'correction',
        () =>
          t.http
            .post(`/api/usage/records/${eveRecord}/corrections`)
            .set(admin)
            .send({ correctionId: 'late', reason: 'r', credits: 0 }),
      ],
      [
        'override',
        () => t.http.put(`/api/entitlements/${featureKey}`).set(admin).send({ userId: eve.id, grant: true }),
      ],
      ['portal session', () => t.http.post('/api/portal/sessions').set(admin).send({ userId: eve.id })],
      [
        'purchase',
        () =>
          t.http
            .post('/api/purchases')
            .set(admin)
            .send({ userId: eve.id, credits: 10, amount: '1.00', currency: 'usd', provider: 'stripe' }),
      ],
    ];
    for (const [what, write] of writes) {
      const res = await write();
      expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(409);
      expect(res.body.code, what).toBe('ACCOUNT_ERASED');
    }
    expect(await balance()).toEqual(was);
    const { rows } = await own.db.query(
      `SELECT (SELECT count(*) FROM portal_sessions WHERE user_id = $1)::int AS sessions,
              (SELECT count(*) FROM subscriptions WHERE user_id = $1)::int AS subscriptions,
              (SELECT count(*) FROM usage_corrections c JOIN usage_records r ON r.id = c.record_id WHERE r.user_id = $1)::int AS corrections`,
      [eve.id],
    );
    expect(rows[0]).toEqual({ sessions: 1, subscriptions: 0, corrections: 0 });
  });
});
