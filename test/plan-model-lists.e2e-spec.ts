import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { PricingService } from '../src/pricing/pricing.service.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { freezeClock } from './support/clock.js';
import { Fixtures } from './support/fixtures.js';

/**
 * A plan's model list limits its subscribers' metering (docs/pricing.md "Model entitlements") from
 * the moment each change commits, on every instance: when the subscription starts, when the plan's
 * `models` change, and when the subscription ends. Both instances' clocks stand still and their
 * cache TTL is an hour, so only the `pricing_changed` notification can bring a change to either.
 */
const admin = bearer(token({ sub: uniqueId('pmladmin'), role: 'admin' }));
const ANTHROPIC = 'anthropic.claude-3-haiku-20240307-v1:0';
const GPT = 'gpt-4o';

let a: TestApp;
let b: TestApp;
let f: Fixtures;

beforeAll(async () => {
  [a, b] = await Promise.all([
    startTestApp({ PRICING_CACHE_TTL_MS: '3600000' }),
    startTestApp({ PRICING_CACHE_TTL_MS: '3600000' }),
  ]);
  for (const t of [a, b]) {
    freezeClock(t);
    t.app.get(PricingService).invalidate(); // the next read loads at the frozen time
  }
  f = new Fixtures(a, { prefix: 'pml' });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
});

const planId = () =>
  uniqueId('pmlplan')
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '');

/** Whether the instance would let the user meter the model (the quote reads the same cache as a record). */
async function entitled(t: TestApp, userId: string, modelId: string): Promise<boolean> {
  const res = await t.http.post('/api/credits/calculate').set(admin).send({ modelId, tokens: 10, userId });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.entitled as boolean;
}

/** Waits (bounded) until both instances answer `allowed` for each model. */
async function bothAllow(userId: string, allowed: Record<string, boolean>): Promise<void> {
  await vi.waitFor(async () => {
    for (const t of [a, b]) {
      for (const [modelId, yes] of Object.entries(allowed)) expect(await entitled(t, userId, modelId)).toBe(yes);
    }
  }, 10_000);
}

const record = (t: TestApp, userId: string, modelId: string) =>
  t.http.post('/api/usage/record').set(admin).send({ userId, service: 'chat', operation: 'c', modelId, tokens: 10 });

describe("a plan's model list on every instance", () => {
  it('applies when the subscription starts, follows the plan, and is gone when it ends', async () => {
    const user = await f.newUser({ credits: 1000 });
    const id = planId();
    await a.http
      .post('/api/plans')
      .set(admin)
      .send({ id, name: 'p', credits: 10, period: 'month', models: ['anthropic.*'] })
      .expect(201);
    // Both caches loaded before any change: what follows must reach them.
    await bothAllow(user.id, { [ANTHROPIC]: true, [GPT]: true });

    await a.http.put(`/api/users/${user.id}/subscription`).set(admin).send({ planId: id }).expect(200);
    await bothAllow(user.id, { [ANTHROPIC]: true, [GPT]: false });
    for (const t of [a, b]) {
      const refused = await record(t, user.id, GPT);
      expect(refused.status, JSON.stringify(refused.body)).toBe(403);
      expect(refused.body.code).toBe('MODEL_NOT_ENTITLED');
      expect((await record(t, user.id, ANTHROPIC)).status).toBe(201);
    }

    await a.http
      .patch(`/api/plans/${id}`)
      .set(admin)
      .send({ models: ['gpt-*'] })
      .expect(200);
    await bothAllow(user.id, { [ANTHROPIC]: false, [GPT]: true });
    for (const t of [a, b]) {
      expect((await record(t, user.id, GPT)).status).toBe(201);
      expect((await record(t, user.id, ANTHROPIC)).body.code).toBe('MODEL_NOT_ENTITLED');
    }

    await a.http.delete(`/api/users/${user.id}/subscription`).set(admin).expect(200);
    await bothAllow(user.id, { [ANTHROPIC]: true, [GPT]: true });
    for (const t of [a, b]) {
      expect((await record(t, user.id, GPT)).status).toBe(201);
      expect((await record(t, user.id, ANTHROPIC)).status).toBe(201);
    }
  });

  it("a change to another plan applies the new plan's list; one without a list lifts it", async () => {
    const user = await f.newUser({ credits: 1000 });
    const [first, second, open] = [planId(), planId(), planId()];
    for (const [id, models] of [
      [first, ['anthropic.*']],
      [second, ['gpt-*']],
      [open, null],
    ] as const) {
      await a.http
        .post('/api/plans')
        .set(admin)
        .send({ id, name: 'p', credits: 10, period: 'month', models })
        .expect(201);
    }
    await a.http.put(`/api/users/${user.id}/subscription`).set(admin).send({ planId: first }).expect(200);
    await bothAllow(user.id, { [ANTHROPIC]: true, [GPT]: false });
    await a.http.put(`/api/users/${user.id}/subscription`).set(admin).send({ planId: second }).expect(200);
    await bothAllow(user.id, { [ANTHROPIC]: false, [GPT]: true });
    await a.http.put(`/api/users/${user.id}/subscription`).set(admin).send({ planId: open }).expect(200);
    await bothAllow(user.id, { [ANTHROPIC]: true, [GPT]: true });
    // A list given to the plan later reaches its subscribers too.
    await a.http
      .patch(`/api/plans/${open}`)
      .set(admin)
      .send({ models: ['anthropic.*'] })
      .expect(200);
    await bothAllow(user.id, { [ANTHROPIC]: true, [GPT]: false });
  });
  it("a subscription starting while the plan's models change gets the new list", async () => {
    const id = planId();
    await a.http
      .post('/api/plans')
      .set(admin)
      .send({ id, name: 'p', credits: 10, period: 'month', models: ['anthropic.*'] })
      .expect(201);
    const user = await f.newUser();
    // A change of the plan's models in progress, as PlansService.update makes it: the plan locked,
    // its list and its subscribers' lists written, not yet committed.
    const change = await a.db.connect();
    try {
      await change.query('BEGIN');
      await change.query(`SELECT 1 FROM plans WHERE id = $1 FOR UPDATE`, [id]);
      await change.query(`UPDATE plans SET models = ARRAY['gpt-*'] WHERE id = $1`, [id]);
      await change.query(`UPDATE pricing_plan_model_lists SET models = ARRAY['gpt-*'] WHERE plan_id = $1`, [id]);
      const { rows } = await change.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const subscribed = a.http.put(`/api/users/${user.id}/subscription`).set(admin).send({ planId: id }).then();
      // The subscription waits for the change (on the plan's row) before it reads the plan.
      await vi.waitFor(async () => {
        const waiting = await a.db.query(`SELECT 1 FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))`, [
          rows[0].pid,
        ]);
        expect(waiting.rowCount).toBe(1);
      }, 10_000);
      await change.query('COMMIT');
      expect((await subscribed).status).toBe(200);
    } finally {
      await change.query('ROLLBACK').catch(() => undefined);
      change.release();
    }
    await bothAllow(user.id, { [ANTHROPIC]: false, [GPT]: true });
  });
});
