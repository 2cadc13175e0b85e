import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * The tables that only grow get time-ordered ids (docs/money.md, "Ids in time order"): usage records
 * made by the service (src/common/time-ordered-id.ts) and every row that takes the database's default
 * (uuid_v7()) are version 7 UUIDs whose first 48 bits are the time they were made, in milliseconds.
 */
const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const millisOf = (id: string) => parseInt(id.slice(0, 8) + id.slice(9, 13), 16);

describe('time-ordered ids', () => {
  let t: TestApp;
  const users: string[] = [];
  let f: Fixtures;
  const meter = tokenFor('admin', 'ordered-meter');

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users });
  });
  afterEach(() => expectInvariants(t, users));
  afterAll(() => t.close());

  const auditIdsOf = async (targetId: string) =>
    (await t.db.query<{ id: string }>('SELECT id FROM audit_log WHERE target_id = $1', [targetId])).rows.map(
      (r) => r.id,
    );
  /** The `usage.record` entries of a user's records, as GET /api/audit answers them (read from the records). */
  const recordEntryIdsOf = async (userId: string) =>
    (
      await t.http.get(`/api/audit?action=usage.record&targetId=${userId}&limit=500`).set(bearer(meter)).expect(200)
    ).body.items.map((e: { id: string }) => e.id);

  it('a record, which is its own audit entry, is version 7, made when the record was', async () => {
    const u = await f.newUser({ credits: 10 });
    const before = Date.now();
    const res = await t.http
      .post('/api/usage/record')
      .set(bearer(meter))
      .send({ userId: u.id, service: 'ordered', operation: 'op', credits: 2 })
      .expect(201);
    const after = Date.now();
    expect(res.body.id).toMatch(V7);
    expect(millisOf(res.body.id)).toBeGreaterThanOrEqual(before);
    expect(millisOf(res.body.id)).toBeLessThanOrEqual(after);
    // Credits named for another account: the record is the `usage.record` entry, under its own id.
    expect(await recordEntryIdsOf(u.id)).toEqual([res.body.id]);
  });

  it("a batch's records are version 7, in the order they were made", async () => {
    const u = await f.newUser({ credits: 10 });
    const events = Array.from({ length: 5 }, (_, i) => ({
      eventId: uniqueId(`ordered-${i}`),
      userId: u.id,
      service: 'ordered',
      operation: 'op',
      credits: 1,
    }));
    const res = await t.http.post('/api/usage/records/batch').set(bearer(meter)).send({ events }).expect(200);
    const ids: string[] = res.body.results.map((r: { usageRecordId: string }) => r.usageRecordId);
    for (const id of ids) expect(id).toMatch(V7);
    const times = ids.map(millisOf);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    // Their entries are the records, newest first.
    expect(await recordEntryIdsOf(u.id)).toEqual([...ids].reverse());
  });

  it("rows that take the database's default are version 7 too (an allocation's audit entry)", async () => {
    const u = await f.newUser();
    const allocation = await f.grant(u.id, 7);
    const [entry] = await auditIdsOf(allocation.id);
    expect(entry).toMatch(V7);
    // uuid_v7() reads the clock when it runs: its millisecond lies between the clock read just before
    // and just after it (read apart, the two could be milliseconds apart on a loaded machine).
    const { rows } = await t.db.query<{ before: Date; id: string; after: Date }>(
      `SELECT date_trunc('milliseconds', clock_timestamp()) AS before, uuid_v7()::text AS id,
              clock_timestamp() AS after`,
    );
    expect(rows[0].id).toMatch(V7);
    expect(millisOf(rows[0].id)).toBeGreaterThanOrEqual(rows[0].before.getTime());
    expect(millisOf(rows[0].id)).toBeLessThanOrEqual(rows[0].after.getTime());
  });
});
