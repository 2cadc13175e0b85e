import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';
import { REFUSED_SERVICE } from './support/refused-records.js';

const BATCH = '/api/usage/records/batch';
type Result = { eventId: string; status: string; usageRecordId?: string };

/**
 * A batch outside an Idempotency-Key transaction is written in parts side by side (BATCH_PARTS; each
 * account's events in one part, in array order; each part its own statement and transaction):
 * docs/money.md "The batch take". In an Idempotency-Key transaction it stays one statement of it.
 */
describe('a batch in parts', () => {
  let t: TestApp;
  const users: string[] = [];
  let f: Fixtures;
  const meter = tokenFor('admin', 'parts-meter');

  beforeAll(async () => {
    t = await startTestApp({ THROTTLE_LIMIT: '100000' });
    f = new Fixtures(t, { users, prefix: 'parts' });
  });
  afterEach(() => expectInvariants(t, users));
  afterAll(() => t.close());

  /** 8 events of 1 credit for each user, interleaved user by user: 16 users → 128 events. */
  const eventsFor = (us: FixtureUser[], service: (u: number, k: number) => string = () => 'parts') =>
    Array.from({ length: 8 }, (_, k) =>
      us.map((u, i) => ({
        eventId: uniqueId(`p${k}`),
        userId: u.id,
        service: service(i, k),
        operation: 'op',
        credits: 1,
      })),
    ).flat();
  const send = (events: unknown[], headers: Record<string, string> = {}) =>
    t.http.post(BATCH).set(bearer(meter)).set(headers).send({ events });
  /** How many transactions wrote these records (a row's xmin is the transaction that inserted it). */
  const transactionsOf = async (ids: string[]) =>
    (await t.db.query(`SELECT count(DISTINCT xmin::text)::int AS n FROM usage_records WHERE id = ANY($1)`, [ids]))
      .rows[0].n as number;

  it("decides each account's events in array order, in two transactions", async () => {
    const us = await Promise.all(Array.from({ length: 16 }, () => f.newUser({ credits: 5 })));
    const events = eventsFor(us);
    const res = await send(events).expect(200);
    const results = res.body.results as Result[];
    expect(results.map((r) => r.eventId)).toEqual(events.map((e) => e.eventId));
    // Each user's first five events are created, their last three refused: array order per account.
    results.forEach((r, n) => expect(r.status).toBe(Math.floor(n / 16) < 5 ? 'created' : 'insufficient_credits'));
    expect(res.body).toMatchObject({ created: 80, duplicates: 0, rejected: 48 });
    for (const u of us) expect(await f.available(u.id)).toBe(0);
    const created = results.filter((r) => r.status === 'created').map((r) => r.usageRecordId!);
    expect(await transactionsOf(created)).toBe(2);
  });

  it('a part the database refuses fails the request; the other part stays recorded, and a resend completes it', async () => {
    const us = await Promise.all(Array.from({ length: 16 }, () => f.newUser({ credits: 10 })));
    // User 0's third event is refused by the database: its part's statement fails as a whole.
    const events = eventsFor(us, (u, k) => (u === 0 && k === 2 ? REFUSED_SERVICE : 'parts'));
    const first = await send(events);
    expect(first.status).toBe(500);
    expect(JSON.stringify(first.body)).not.toMatch(/faulty record|INSERT|trigger/);
    const charged = await Promise.all(us.map((u) => f.available(u.id)));
    // The faulty user's part wrote nothing; the other part, which holds at least one user, committed whole.
    expect(charged[0]).toBe(10);
    expect(charged.every((c) => c === 10 || c === 2)).toBe(true);
    const recorded = charged.filter((c) => c === 2).length;
    expect(recorded).toBeGreaterThan(0);
    expect(recorded).toBeLessThan(16);
    // The batch again, its faulty event mended (the same ids): what the other part recorded comes
    // back as duplicates, the rest is created.
    const again = await send(events.map((e) => ({ ...e, service: 'parts' }))).expect(200);
    expect(again.body).toMatchObject({ created: (16 - recorded) * 8, duplicates: recorded * 8, rejected: 0 });
    for (const u of us) expect(await f.available(u.id)).toBe(2);
  });

  it('with an Idempotency-Key, the batch is one statement of its transaction: all or nothing', async () => {
    const us = await Promise.all(Array.from({ length: 16 }, () => f.newUser({ credits: 10 })));
    const faulty = eventsFor(us, (u, k) => (u === 0 && k === 2 ? REFUSED_SERVICE : 'parts'));
    await send(faulty, { 'Idempotency-Key': uniqueId('parts-key') }).expect(500);
    for (const u of us) expect(await f.available(u.id)).toBe(10);
    const res = await send(eventsFor(us), { 'Idempotency-Key': uniqueId('parts-key') }).expect(200);
    expect(res.body.created).toBe(128);
    expect(await transactionsOf((res.body.results as Result[]).map((r) => r.usageRecordId!))).toBe(1);
  });
});
