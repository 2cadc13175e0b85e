import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CLOCK, type Clock } from '../src/common/clock.js';
import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { freezeClock } from './support/clock.js';
import { Fixtures, tokenFor } from './support/fixtures.js';

/**
 * Purchases, subscriptions, streaming sessions, grants, price rules and API keys read the time through
 * the app's `Clock` (src/common/clock.ts), like the rest of the service, so a test sets it instead of
 * waiting. Before, each read `Date.now()`: with the clock set an hour ahead, a purchase was still paid,
 * a plan still anchored, a session still started, a grant still dated and a key's expiry still checked
 * at the wall clock's time.
 */
const HOUR = 3_600_000;
const DAY = 86_400_000;
const TTL_SECONDS = 600;

describe('clock reads of purchases, subscriptions and streaming sessions', () => {
  let t: TestApp;
  let f: Fixtures;
  let clock: Clock;
  const users: string[] = [];
  const admin = bearer(tokenFor('admin', 'clock-reads-admin'));

  beforeAll(async () => {
    t = await startTestApp({ STREAMING_SESSION_TTL_SECONDS: String(TTL_SECONDS) });
    f = new Fixtures(t, { users, prefix: 'clk' });
    // An hour ahead of the wall clock (and of the database's now()), then stopped there.
    freezeClock(t).advance(HOUR);
    clock = t.app.get<Clock>(CLOCK);
  });
  afterAll(() => t.close());

  const at = (ms: number) => new Date(ms).toISOString();

  it('a purchase is paid, its allocation expires and a failed one closes at the clock’s time', async () => {
    const u = await f.newUser();
    const created = await t.http
      .post('/api/purchases')
      .set(admin)
      .send({ userId: u.id, credits: 100, amount: '1.00', currency: 'usd', provider: 'stripe', expiryDays: 30 })
      .expect(201);
    const paid = await t.http.post(`/api/purchases/${created.body.id}/paid`).set(admin).send({}).expect(200);
    expect(paid.body.paidAt).toBe(at(clock.now()));
    const allocation = await t.db.query<{ expires_at: Date }>(
      `SELECT expires_at FROM credit_allocations WHERE id = $1`,
      [paid.body.allocationId],
    );
    expect(allocation.rows[0].expires_at.toISOString()).toBe(at(clock.now() + 30 * DAY));

    const other = await t.http
      .post('/api/purchases')
      .set(admin)
      .send({ userId: u.id, credits: 100, amount: '1.00', currency: 'usd', provider: 'stripe' })
      .expect(201);
    await t.http.post(`/api/purchases/${other.body.id}/fail`).set(admin).send({}).expect(200);
    const closed = await t.db.query<{ closed_at: Date }>(`SELECT closed_at FROM purchases WHERE id = $1`, [
      other.body.id,
    ]);
    expect(closed.rows[0].closed_at.toISOString()).toBe(at(clock.now()));
  });

  it('a subscription is anchored at the clock, and a startsAt before it is in the past', async () => {
    const u = await f.newUser();
    const planId = uniqueId('clk-plan');
    await t.http
      .post('/api/plans')
      .set(admin)
      .send({ id: planId, name: 'Clock', credits: 50, period: 'day' })
      .expect(201);
    // Half an hour after the wall clock, but half an hour before the app's clock.
    const late = await t.http
      .put(`/api/users/${u.id}/subscription`)
      .set(admin)
      .send({ planId, startsAt: at(Date.now() + HOUR / 2) });
    expect(late.status).toBe(400);
    expect(late.body.message).toMatch(/startsAt must not be in the past/);

    const sub = await t.http.put(`/api/users/${u.id}/subscription`).set(admin).send({ planId }).expect(200);
    expect(sub.body.startsAt).toBe(at(clock.now()));
    expect(sub.body.currentPeriodStart).toBe(at(clock.now()));
    expect(sub.body.nextGrantAt).toBe(at(clock.now() + DAY));
  });

  it('a streaming session starts, expires and settles at the clock’s time', async () => {
    const u = await f.newUser({ credits: 1000 });
    const sessionId = uniqueId('clk-session');
    const opened = await t.http
      .post('/api/streaming-sessions/initialize')
      .set(admin)
      .send({ userId: u.id, sessionId, modelId: 'anthropic.claude-3-sonnet-20240229-v1:0', estimatedTokens: 1000 })
      .expect(201);
    expect(opened.body.startedAt).toBe(at(clock.now()));
    expect(opened.body.expiresAt).toBe(at(clock.now() + TTL_SECONDS * 1000));

    await t.http
      .post('/api/streaming-sessions/finalize')
      .set(admin)
      .send({ userId: u.id, sessionId, actualTokens: 500 })
      .expect(200);
    const settled = await t.db.query<{ settled_at: Date }>(
      `SELECT settled_at FROM streaming_sessions WHERE session_id = $1 AND user_id = $2`,
      [sessionId, u.id],
    );
    expect(settled.rows[0].settled_at.toISOString()).toBe(at(clock.now()));
  });

  it('a grant expires, a price rule starts and API keys expire by the clock', async () => {
    const u = await f.newUser();
    const grant = await f.grant(u.id, 10);
    expect(grant.expiresAt).toBe(at(clock.now() + 30 * DAY));

    const rule = await t.http
      .post('/api/pricing')
      .set(admin)
      .send({ modelId: uniqueId('clock-model'), pricePer1kTokens: '1' })
      .expect(201);
    expect(rule.body.effectiveFrom).toBe(at(clock.now()));

    // Half an hour after the wall clock is half an hour before the app's clock: not in the future.
    const stale = await t.http
      .post('/api/api-keys')
      .set(u.auth)
      .send({ name: 'stale', permissions: ['credits:read'], expiresAt: at(Date.now() + HOUR / 2) });
    expect(stale.status).toBe(400);
    expect(stale.body.message).toMatch(/expiresAt must be in the future/);
    const serviceKey = await t.http
      .post('/api/api-keys')
      .set(admin)
      .send({ name: 'gateway', permissions: ['usage:ingest'] })
      .expect(201);
    expect(serviceKey.body.expiresAt).toBe(at(clock.now() + 365 * DAY));
  });
});
