import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PricingService } from '../src/pricing/pricing.service.js';
import { UsageEventIdsJob } from '../src/usage/batch/usage-event-ids.job.js';
import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

const admin = bearer(tokenFor('admin', 'late-usage-admin'));
const DAY = 86_400_000;

/**
 * Late usage (docs/usage.md "Late usage"): a record whose `occurredAt` lies in the past is priced by
 * the rule in force then, its credits are taken now, and stats, the record list's date filters and
 * simulations place it on the day it occurred. The model costs 10 per 1,000 tokens until a day ago and
 * 20 since.
 */
describe('late usage: occurredAt', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const model = uniqueId('late');
  const fiveDaysAgo = new Date(Date.now() - 5 * DAY);
  const day = fiveDaysAgo.toISOString().slice(0, 10);

  beforeAll(async () => {
    t = await startTestApp({ LATE_USAGE_DAYS: '60' });
    f = new Fixtures(t, { users, prefix: 'late' });
    await t.db.query(
      `INSERT INTO pricing_rules (model_id, price_per_1k_tokens, output_price_per_1k_tokens, effective_from, effective_to, created_by)
       VALUES ($1, 10, 10, now() - interval '200 days', now() - interval '1 day', 'test'),
              ($1, 20, 20, now() - interval '1 day', NULL, 'test')`,
      [model],
    );
    t.app.get(PricingService).invalidate();
  });
  afterAll(() => t?.close());

  const record = (auth: Record<string, string>, body: object) =>
    t.http
      .post('/api/usage/record')
      .set(auth)
      .send({ service: 'chat', operation: 'completion', modelId: model, tokens: 1000, ...body });

  it('prices a late record by the rule in force when it occurred and takes its credits now', async () => {
    const u = await f.newUser({ credits: 100 });
    const late = await record(u.auth, { occurredAt: fiveDaysAgo.toISOString() }).expect(201);
    expect(late.body).toMatchObject({ credits: 10, occurredAt: fiveDaysAgo.toISOString() });
    expect(Date.parse(late.body.timestamp)).toBeGreaterThan(Date.now() - 60_000);
    const now = await record(u.auth, {}).expect(201);
    expect(now.body.credits).toBe(20);
    expect(now.body.occurredAt).toBe(now.body.timestamp);
    expect(await f.available(u.id)).toBe(70);
    const { rows } = await t.db.query(
      `SELECT occurred_at = "timestamp" AS same FROM usage_records WHERE user_id = $1 ORDER BY "timestamp"`,
      [u.id],
    );
    expect(rows.map((r) => r.same)).toEqual([false, true]);
    await expectInvariants(t, [u.id]);
  });

  it('refuses occurredAt before now − LATE_USAGE_DAYS or after now + 5 minutes, writing nothing', async () => {
    const u = await f.newUser({ credits: 100 });
    for (const at of [Date.now() - 61 * DAY, Date.now() + 6 * 60_000]) {
      const res = await record(u.auth, { occurredAt: new Date(at).toISOString() }).expect(400);
      expect(res.body.code).toBe('OCCURRED_AT_OUT_OF_RANGE');
    }
    await record(u.auth, { occurredAt: new Date(Date.now() - 59 * DAY).toISOString() }).expect(201);
    await record(u.auth, { occurredAt: new Date(Date.now() + 4 * 60_000).toISOString() }).expect(201);
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM usage_records WHERE user_id = $1`, [u.id]);
    expect(rows[0].n).toBe(2);
    expect(await f.available(u.id)).toBe(70);
  });

  it('a batch event takes occurredAt; one out of range is invalid with the code, the others apply', async () => {
    const u = await f.newUser({ credits: 100 });
    const res = await t.http
      .post('/api/usage/records/batch')
      .set(u.auth)
      .send({
        events: [
          { eventId: uniqueId('e'), service: 'chat', operation: 'c', modelId: model, tokens: 1000, occurredAt: day },
          {
            eventId: uniqueId('e'),
            service: 'chat',
            operation: 'c',
            modelId: model,
            tokens: 1000,
            occurredAt: new Date(Date.now() - 70 * DAY).toISOString(),
          },
          { eventId: uniqueId('e'), service: 'chat', operation: 'c', modelId: model, tokens: 1000 },
        ],
      })
      .expect(200);
    expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(['created', 'invalid', 'created']);
    expect(res.body.results[0].credits).toBe(10);
    expect(res.body.results[1].error).toMatch(/^OCCURRED_AT_OUT_OF_RANGE: /);
    expect(res.body.results[2].credits).toBe(20);
    const { rows } = await t.db.query(
      `SELECT credits, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day FROM usage_records
        WHERE user_id = $1 ORDER BY credits`,
      [u.id],
    );
    expect(rows).toEqual([
      { credits: 10, day },
      { credits: 20, day: new Date().toISOString().slice(0, 10) },
    ]);
  });

  it('stats, the list and CSV date filters, and simulations place the record at occurredAt', async () => {
    const u = await f.newUser({ credits: 100 });
    const late = await record(u.auth, { occurredAt: fiveDaysAgo.toISOString() }).expect(201);
    await record(u.auth, {}).expect(201);
    const stats = await t.http.get('/api/usage/stats').set(u.auth).expect(200);
    expect(stats.body.byDay[day]).toBe(10);
    const onDay = await t.http.get(`/api/usage/records?startDate=${day}&endDate=${day}`).set(u.auth).expect(200);
    expect(onDay.body.items.map((r: { id: string }) => r.id)).toEqual([late.body.id]);
    const csv = await t.http.get(`/api/usage/records/export?startDate=${day}&endDate=${day}`).set(u.auth).expect(200);
    expect(csv.text).toContain(late.body.id);
    expect(csv.text.trim().split('\n')).toHaveLength(2);
    const from = new Date(Date.parse(day)).toISOString();
    const to = new Date(Date.parse(day) + DAY).toISOString();
    const sim = await t.http
      .post('/api/pricing/simulations')
      .set(admin)
      .send({ from, to, userId: u.id, groupBy: 'day', rules: [{ modelId: model, pricePer1kTokens: '10' }] })
      .expect(200);
    expect(sim.body).toMatchObject({ records: 1, actualCredits: 10, difference: 0, rows: [{ key: day }] });
    // The system-wide stats read whole days from the daily rollups, which bucket by occurredAt.
    await t.db.query(`SELECT usage_rollup_compact()`);
    const { rows } = await t.db.query(
      `SELECT sum(credits)::int AS credits FROM usage_daily_users WHERE user_id = $1 AND day = $2::date`,
      [u.id, day],
    );
    expect(rows[0].credits).toBe(10);
  });

  it('remembers event ids as long as LATE_USAGE_DAYS when it is longer than 35 days', async () => {
    const owner = uniqueId('late-owner');
    await t.db.query(
      `INSERT INTO usage_event_ids (owner, event_id, usage_record_id, created_at)
       VALUES ($1, 'kept', gen_random_uuid(), now() - interval '50 days'),
              ($1, 'gone', gen_random_uuid(), now() - interval '61 days')`,
      [owner],
    );
    await t.app.get(UsageEventIdsJob).cleanup();
    const { rows } = await t.db.query(`SELECT event_id FROM usage_event_ids WHERE owner = $1`, [owner]);
    expect(rows.map((r) => r.event_id)).toEqual(['kept']);
  });
});
