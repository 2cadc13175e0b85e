import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SubscriptionRenewalJob } from '../src/plans/subscription-renewal.job.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { passTime } from './support/clock.js';
import { expectInvariants } from './support/invariants.js';

const admin = () => bearer(token({ sub: 'spend-admin', role: 'admin' }));
const supervisor = () => bearer(token({ sub: 'spend-supervisor', role: 'supervisor' }));
const DAY = 86_400_000;

describe('spend controls', () => {
  let t: TestApp;
  const users: string[] = [];

  beforeAll(async () => {
    t = await startTestApp({ LOW_BALANCE_THRESHOLDS: '' });
  });
  afterAll(async () => {
    await expectInvariants(t, users);
    await t.close();
  });

  async function newUser(credits = 0, limits: Record<string, unknown> = {}): Promise<string> {
    const userId = uniqueId('sc');
    users.push(userId);
    await t.http
      .get('/api/users/me')
      .set(bearer(token({ sub: userId })))
      .expect(200);
    if (credits > 0) await grant(userId, credits);
    if (Object.keys(limits).length)
      await t.http.put(`/api/credits/limits/${userId}`).set(admin()).send(limits).expect(200);
    return userId;
  }

  const grant = (userId: string, credits: number) =>
    t.http.post('/api/credits/allocate').set(supervisor()).send({ userId, credits }).expect(201);

  const record = (userId: string, credits: number) =>
    t.http
      .post('/api/usage/record')
      .set(bearer(token({ sub: userId })))
      .send({ service: 'chat', operation: 'completion', credits });

  async function balance(userId: string) {
    const res = await t.http.get('/api/credits/balance').set(bearer(token({ sub: userId })));
    expect(res.status).toBe(200);
    return res.body as { totalCredits: number; debt: number; activeAllocations: { id: string; credits: number }[] };
  }

  async function ledger(userId: string) {
    const { rows } = await t.db.query(
      `SELECT kind, amount, allocation_id, usage_record_id FROM credit_ledger WHERE member_id = $1 ORDER BY id`,
      [userId],
    );
    return rows as { kind: string; amount: number; allocation_id: string | null; usage_record_id: string | null }[];
  }

  async function events(userId: string, type: string) {
    const { rows } = await t.db.query(`SELECT data FROM events WHERE user_id = $1 AND type = $2 ORDER BY created_at`, [
      userId,
      type,
    ]);
    return rows.map((r: { data: Record<string, unknown> }) => r.data);
  }

  describe('limits routes', () => {
    it('admin sets, supervisor reads; fields left out keep their value; null returns to the default', async () => {
      const userId = await newUser();
      const empty = await t.http.get(`/api/credits/limits/${userId}`).set(supervisor());
      expect(empty.body).toEqual({
        userId,
        overdraftLimit: 0,
        maxCreditsPerHour: null,
        effectiveMaxCreditsPerHour: null,
        debt: 0,
      });
      const set = await t.http
        .put(`/api/credits/limits/${userId}`)
        .set(admin())
        .send({ overdraftLimit: 50, maxCreditsPerHour: 1000 });
      expect(set.status).toBe(200);
      expect(set.body).toMatchObject({ overdraftLimit: 50, maxCreditsPerHour: 1000, effectiveMaxCreditsPerHour: 1000 });
      const partial = await t.http.put(`/api/credits/limits/${userId}`).set(admin()).send({ maxCreditsPerHour: null });
      expect(partial.body).toMatchObject({ overdraftLimit: 50, maxCreditsPerHour: null });
    });

    it('validation, auth and unknown users', async () => {
      const userId = await newUser();
      for (const bad of [
        { overdraftLimit: -1 },
        { overdraftLimit: 1.5 },
        { maxCreditsPerHour: 0 },
        { maxCreditsPerHour: 'many' },
        { overdraftLimit: null },
        { debt: 0 },
      ]) {
        const res = await t.http.put(`/api/credits/limits/${userId}`).set(admin()).send(bad);
        expect(res.status, JSON.stringify(bad)).toBe(400);
      }
      expect((await t.http.put(`/api/credits/limits/${userId}`).set(supervisor()).send({})).status).toBe(403);
      expect((await t.http.get(`/api/credits/limits/${userId}`).set(bearer(token({ sub: userId })))).status).toBe(403);
      expect((await t.http.get(`/api/credits/limits/${userId}`)).status).toBe(401);
      expect(
        (await t.http.put('/api/credits/limits/nobody-here').set(admin()).send({ overdraftLimit: 1 })).status,
      ).toBe(404);
      expect((await t.http.get('/api/credits/limits/nobody-here').set(supervisor())).status).toBe(404);
      const { rows } = await t.db.query(
        `SELECT count(*)::int AS n FROM credit_accounts WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)`,
        [userId],
      );
      expect(rows[0].n).toBe(0);
    });
  });

  describe('overdraft and debt', () => {
    it('a record may go past the balance up to the overdraft; the rest is debt, beyond it 402', async () => {
      const userId = await newUser(10, { overdraftLimit: 5 });
      const first = await record(userId, 12);
      expect(first.status).toBe(201);
      expect(await balance(userId)).toMatchObject({ totalCredits: 0, debt: 2 });
      const entries = (await ledger(userId)).filter((l) => l.usage_record_id === first.body.id);
      expect(entries.map((l) => [l.kind, l.amount, l.allocation_id === null])).toEqual([
        ['debit', -10, false],
        ['overdraft', -2, true],
      ]);
      const short = await record(userId, 4);
      expect(short.status).toBe(402);
      expect(short.body).toMatchObject({ code: 'INSUFFICIENT_CREDITS', requiredCredits: 4, availableCredits: 3 });
      expect((await record(userId, 3)).status).toBe(201);
      expect(
        (
          await t.http
            .post('/api/credits/check')
            .set(bearer(token({ sub: userId })))
            .send({ credits: 1 })
        ).body,
      ).toEqual({ sufficient: false, requiredCredits: 1, availableCredits: 0 });
      expect(await balance(userId)).toMatchObject({ totalCredits: 0, debt: 5 });
    });

    it('parallel records at the overdraft edge: exactly balance + overdraft is spent', async () => {
      const userId = await newUser(10, { overdraftLimit: 10 });
      const answers = await Promise.all(Array.from({ length: 30 }, () => record(userId, 1)));
      expect(answers.filter((r) => r.status === 201)).toHaveLength(20);
      expect(answers.filter((r) => r.status === 402)).toHaveLength(10);
      expect(await balance(userId)).toMatchObject({ totalCredits: 0, debt: 10 });
      await expectInvariants(t, [userId]);
    });

    it('a manual grant repays the debt first', async () => {
      const userId = await newUser(0, { overdraftLimit: 30 });
      await record(userId, 25).expect(201);
      const granted = await grant(userId, 100);
      expect(granted.body).toMatchObject({ totalCredits: 100, remainingCredits: 75 });
      expect(await balance(userId)).toMatchObject({ totalCredits: 75, debt: 0 });
      const repay = (await ledger(userId)).filter((l) => l.kind === 'repay');
      expect(repay).toEqual([expect.objectContaining({ amount: -25, allocation_id: granted.body.id })]);
    });

    it('a grant smaller than the debt repays what it can', async () => {
      const userId = await newUser(0, { overdraftLimit: 30 });
      await record(userId, 25).expect(201);
      await grant(userId, 10);
      expect(await balance(userId)).toMatchObject({ totalCredits: 0, debt: 15 });
    });

    it('plan grants and rollovers repay debt too', async () => {
      const planId = uniqueId('p').toLowerCase();
      await t.http
        .post('/api/plans')
        .set(admin())
        .send({ id: planId, name: 'Daily', credits: 10, period: 'day', rolloverCap: 100 })
        .expect(201);
      const userId = await newUser(0, { overdraftLimit: 20 });
      await record(userId, 4).expect(201); // debt 4
      await t.http.put(`/api/users/${userId}/subscription`).set(supervisor()).send({ planId }).expect(200);
      expect(await balance(userId)).toMatchObject({ totalCredits: 6, debt: 0 });

      // Debt while the plan allocation still holds credits: hold them all, overdraw, release them.
      const session = await t.http
        .post('/api/streaming-sessions/initialize')
        .set(bearer(token({ sub: userId })))
        .send({ modelId: 'anthropic.claude-instant-v1', estimatedTokens: 6000 }); // 5 credits → hold 6
      expect(session.status).toBe(201);
      await record(userId, 3).expect(201); // debt 3
      await t.http
        .post('/api/streaming-sessions/finalize')
        .set(bearer(token({ sub: userId })))
        .send({ sessionId: session.body.sessionId, actualTokens: 0 })
        .expect(200);
      expect(await balance(userId)).toMatchObject({ totalCredits: 6, debt: 3 });

      await passTime(t.db, userId, DAY + 60_000);
      await t.app.get(SubscriptionRenewalJob).run();
      // The rollover (6 credits) came first and repaid the 3; the new period's 10 are whole.
      expect(await balance(userId)).toMatchObject({ totalCredits: 13, debt: 0 });
      const { rows } = await t.db.query(
        `SELECT a.source, l.amount FROM credit_ledger l JOIN credit_allocations a ON a.id = l.allocation_id
          WHERE l.member_id = $1 AND l.kind = 'repay' ORDER BY l.id`,
        [userId],
      );
      expect(rows).toEqual([
        { source: 'plan', amount: -4 },
        { source: 'rollover', amount: -3 },
      ]);
    });
  });

  describe('settlement shortfalls and the review queue', () => {
    async function overrun(userId: string, actualTokens: number) {
      const auth = bearer(token({ sub: userId }));
      const init = await t.http
        .post('/api/streaming-sessions/initialize')
        .set(auth)
        .send({ modelId: 'anthropic.claude-instant-v1', estimatedTokens: 1000 }); // 1 credit → hold 2
      expect(init.status).toBe(201);
      const fin = await t.http
        .post('/api/streaming-sessions/finalize')
        .set(auth)
        .send({ sessionId: init.body.sessionId, actualTokens });
      expect(fin.status).toBe(200);
      const { rows } = await t.db.query(`SELECT usage_record_id FROM streaming_sessions WHERE session_id = $1`, [
        init.body.sessionId,
      ]);
      return { ...fin.body, recordId: rows[0].usage_record_id as string };
    }

    it('an overrun is paid by balance, then overdraft; the rest is a shortfall in the queue', async () => {
      const userId = await newUser(5, { overdraftLimit: 3 });
      const result = await overrun(userId, 12_500); // 10 credits: hold 2, overrun 8 = 3 balance + 3 debt + 2 short
      expect(result).toMatchObject({ actualCredits: 10, shortfall: 2 });
      expect(await balance(userId)).toMatchObject({ totalCredits: 0, debt: 3 });
      const queue = await t.http.get('/api/credits/review').set(admin());
      expect(queue.status).toBe(200);
      expect(queue.body.items).toContainEqual(
        expect.objectContaining({
          usageRecordId: result.recordId,
          userId,
          credits: 8,
          shortfall: 2,
          reviewStatus: 'open',
          resolution: null,
        }),
      );
      expect(queue.body.debts).toContainEqual({ userId, debt: 3 });
      expect(await events(userId, 'usage.needs_review')).toEqual([
        { userId, usageRecordId: result.recordId, shortfall: 2 },
      ]);
    });

    it('collect takes the shortfall now, as debt whatever the overdraft; resolving twice is a 409', async () => {
      const userId = await newUser(2);
      const result = await overrun(userId, 6_250); // 5 credits: hold 2, overrun 3, nothing left: shortfall 3
      expect(result.shortfall).toBe(3);
      await grant(userId, 1);
      const resolved = await t.http
        .post(`/api/usage/records/${result.recordId}/resolve`)
        .set(admin())
        .send({ action: 'collect', note: 'long answer, agreed' });
      expect(resolved.status).toBe(200);
      expect(resolved.body).toMatchObject({
        usageRecordId: result.recordId,
        credits: 5,
        shortfall: 3,
        reviewStatus: 'resolved',
        resolution: 'collect',
        resolvedBy: 'spend-admin',
        note: 'long answer, agreed',
      });
      expect(new Date(resolved.body.resolvedAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
      expect(await balance(userId)).toMatchObject({ totalCredits: 0, debt: 2 });
      const again = await t.http
        .post(`/api/usage/records/${result.recordId}/resolve`)
        .set(admin())
        .send({ action: 'write_off' });
      expect(again.status).toBe(409);
      const resolvedList = await t.http.get('/api/credits/review?status=resolved&limit=500').set(admin());
      expect(resolvedList.body.items.map((i: { usageRecordId: string }) => i.usageRecordId)).toContain(result.recordId);
      expect(resolvedList.body.debts).toEqual([]);
    });

    it('write_off moves nothing; records without a review and unknown ids are refused', async () => {
      const userId = await newUser(2);
      const result = await overrun(userId, 6_250);
      const before = await ledger(userId);
      const res = await t.http
        .post(`/api/usage/records/${result.recordId}/resolve`)
        .set(admin())
        .send({ action: 'write_off' });
      expect(res.body).toMatchObject({ reviewStatus: 'resolved', resolution: 'write_off', credits: 2 });
      expect(await ledger(userId)).toEqual(before);

      const plain = await record(await newUser(5), 1);
      expect(
        (await t.http.post(`/api/usage/records/${plain.body.id}/resolve`).set(admin()).send({ action: 'collect' }))
          .status,
      ).toBe(409);
      expect(
        (await t.http.post('/api/usage/records/not-a-uuid/resolve').set(admin()).send({ action: 'collect' })).status,
      ).toBe(404);
      expect(
        (
          await t.http
            .post('/api/usage/records/6a1f2b3c-4d5e-4f60-8a9b-0c1d2e3f4a5b/resolve')
            .set(admin())
            .send({ action: 'collect' })
        ).status,
      ).toBe(404);
      expect(
        (await t.http.post(`/api/usage/records/${result.recordId}/resolve`).set(admin()).send({ action: 'forgive' }))
          .status,
      ).toBe(400);
      expect(
        (
          await t.http
            .post(`/api/usage/records/${result.recordId}/resolve`)
            .set(supervisor())
            .send({ action: 'collect' })
        ).status,
      ).toBe(403);
      expect((await t.http.get('/api/credits/review').set(supervisor())).status).toBe(403);
      expect((await t.http.get('/api/credits/review?status=closed').set(admin())).status).toBe(400);
    });
  });

  describe('spend rate', () => {
    it('parallel records at the hourly limit: exactly the limit passes, the rest 429 with Retry-After', async () => {
      const userId = await newUser(100, { maxCreditsPerHour: 10 });
      const answers = await Promise.all(Array.from({ length: 30 }, () => record(userId, 1)));
      expect(answers.filter((r) => r.status === 201)).toHaveLength(10);
      const limited = answers.filter((r) => r.status === 429);
      expect(limited).toHaveLength(20);
      for (const r of limited) {
        expect(r.body).toMatchObject({ statusCode: 429, code: 'SPEND_RATE_LIMITED', error: 'Too Many Requests' });
        const after = Number(r.headers['retry-after']);
        expect(Number.isInteger(after) && after >= 1 && after <= 3600).toBe(true);
        expect(r.body.retryAfter).toBe(after);
      }
      expect(await balance(userId)).toMatchObject({ totalCredits: 90 });
      await expectInvariants(t, [userId]);
    });

    it('Retry-After is when enough credits leave the window; an hour later all of it has', async () => {
      const userId = await newUser(100, { maxCreditsPerHour: 10 });
      await record(userId, 4).expect(201);
      // As if those 4 had been spent 59 minutes ago, and 5 more just now.
      await t.db.query(
        `UPDATE credit_accounts SET spend_window = array_fill(0, ARRAY[60]), spend_minute = floor(extract(epoch FROM now()) / 60)
          WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)`,
        [userId],
      );
      await t.db.query(
        `UPDATE credit_accounts SET spend_window[((spend_minute - 59) % 60) + 1] = 4, spend_window[(spend_minute % 60) + 1] = 5
          WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)`,
        [userId],
      );
      const limited = await record(userId, 3);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect((await record(userId, 1)).status).toBe(201);
      await t.db.query(
        `UPDATE credit_accounts SET spend_minute = spend_minute - 60 WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)`,
        [userId],
      );
      expect((await record(userId, 10)).status).toBe(201);
      expect((await record(userId, 1)).status).toBe(429);
    });

    it('holds count at their held amount', async () => {
      const userId = await newUser(100, { maxCreditsPerHour: 5 });
      const auth = bearer(token({ sub: userId }));
      const init = (estimatedTokens: number) =>
        t.http
          .post('/api/streaming-sessions/initialize')
          .set(auth)
          .send({ modelId: 'anthropic.claude-instant-v1', estimatedTokens });
      expect((await init(5000)).status).toBe(201); // 4 credits → hold 5
      const refused = await init(1000);
      expect(refused.status).toBe(429);
      expect(refused.body.code).toBe('SPEND_RATE_LIMITED');
    });

    it('SPEND_RATE_LIMIT_PER_HOUR is the default; a user’s own limit replaces it', async () => {
      const other = await startTestApp({ SPEND_RATE_LIMIT_PER_HOUR: '3', LOW_BALANCE_THRESHOLDS: '' });
      try {
        const userId = await newUser(100);
        const rec = (credits: number) =>
          other.http
            .post('/api/usage/record')
            .set(bearer(token({ sub: userId })))
            .send({ service: 's', operation: 'o', credits });
        expect((await rec(3)).status).toBe(201);
        expect((await rec(1)).status).toBe(429);
        await other.http.put(`/api/credits/limits/${userId}`).set(admin()).send({ maxCreditsPerHour: 10 }).expect(200);
        expect((await rec(5)).status).toBe(201);
        const limits = await other.http.get(`/api/credits/limits/${userId}`).set(supervisor());
        expect(limits.body).toMatchObject({ maxCreditsPerHour: 10, effectiveMaxCreditsPerHour: 10 });
        await other.http
          .put(`/api/credits/limits/${userId}`)
          .set(admin())
          .send({ maxCreditsPerHour: null })
          .expect(200);
        expect((await rec(1)).status).toBe(429);
      } finally {
        await other.close();
      }
    });
  });

  describe('low-balance alerts', () => {
    it('balance.low once per crossing, armed again when the balance is back; depleted at 0; none from a 402', async () => {
      const userId = await newUser(100);
      const res = await t.http
        .put(`/api/credits/alerts/${userId}`)
        .set(supervisor())
        .send({ thresholds: [10, 50, 50] });
      expect(res.body).toEqual({ userId, thresholds: [50, 10], source: 'user' });
      await record(userId, 40).expect(201); // 60
      await record(userId, 15).expect(201); // 45: crosses 50
      await record(userId, 1).expect(201); // 44: no new crossing
      expect((await record(userId, 1000)).status).toBe(402);
      expect(await events(userId, 'balance.low')).toEqual([{ userId, threshold: 50, balance: 45 }]);
      await grant(userId, 100); // 144: armed again
      await record(userId, 144).expect(201); // 0: crosses 50 and 10, depleted
      // One movement's events share a transaction and so a timestamp: compare without order.
      const low = await events(userId, 'balance.low');
      expect(low).toHaveLength(3);
      expect(low).toEqual(
        expect.arrayContaining([
          { userId, threshold: 50, balance: 45 },
          { userId, threshold: 50, balance: 0 },
          { userId, threshold: 10, balance: 0 },
        ]),
      );
      expect(await events(userId, 'balance.depleted')).toEqual([{ userId }]);
    });

    it('validates thresholds and needs a supervisor', async () => {
      const userId = await newUser();
      for (const bad of [{ thresholds: [-1] }, { thresholds: Array(11).fill(1) }, { thresholds: 5 }, {}]) {
        expect((await t.http.put(`/api/credits/alerts/${userId}`).set(supervisor()).send(bad)).status).toBe(400);
      }
      expect(
        (
          await t.http
            .put(`/api/credits/alerts/${userId}`)
            .set(bearer(token({ sub: userId })))
            .send({ thresholds: [] })
        ).status,
      ).toBe(403);
      expect(
        (await t.http.put('/api/credits/alerts/nobody-here').set(supervisor()).send({ thresholds: [] })).status,
      ).toBe(404);
    });
  });

  it('invariants and reconcile after a mixed workload with overdraft, debt, repayments and collects', async () => {
    const mixed = await Promise.all(
      Array.from({ length: 4 }, () => newUser(20, { overdraftLimit: 15, maxCreditsPerHour: 200 })),
    );
    for (let round = 0; round < 3; round++) {
      await Promise.all(mixed.flatMap((u) => Array.from({ length: 5 }, (_, i) => record(u, 3 + i))));
      await Promise.all(mixed.map((u) => grant(u, 10)));
    }
    await expectInvariants(t, mixed);
    const reconcile = await t.http.get('/api/credits/reconcile').set(admin());
    expect(reconcile.body.mismatches).toEqual([]);
  });
});
