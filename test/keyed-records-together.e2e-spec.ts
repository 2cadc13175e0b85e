import { randomUUID } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * Records with an `eventId` that arrive together go out in one statement too (docs/money.md "Records
 * that arrive together"): each id claimed in its writer's namespace by the statement that writes the
 * record, so every id is charged once however many times and through however many writers it comes,
 * and a refused record gives its id back.
 */
describe('records with an eventId that arrive together', () => {
  let t: TestApp;
  const users: string[] = [];
  let f: Fixtures;
  const meter = bearer(tokenFor('admin', 'keyed-meter'));
  const otherMeter = bearer(tokenFor('admin', 'keyed-meter-2'));

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'kt' });
  });
  afterEach(() => expectInvariants(t, users));
  afterAll(() => t.close());

  const record = (auth: Record<string, string>, body: Record<string, unknown>) =>
    t.http
      .post('/api/usage/record')
      .set(auth)
      .send({ service: 'keyed', operation: 'op', credits: 1, ...body });
  /** The transactions that wrote these records' debit lines, and how many records each carried. */
  const recordsByTransaction = async (ids: string[]): Promise<number[]> => {
    const { rows } = await t.db.query(
      `SELECT count(*)::int AS n FROM credit_ledger WHERE usage_record_id = ANY($1) AND kind = 'debit' GROUP BY xmin`,
      [ids],
    );
    return rows.map((r: { n: number }) => r.n);
  };

  it('fresh ids of many writers share statements; each is charged once and answered as alone', async () => {
    const us = await Promise.all(Array.from({ length: 8 }, () => f.newUser({ credits: [5] })));
    // 8 users × 6 records, each with its own id, at once: 5 each are recorded, 1 each is a 402.
    const sent = us.flatMap((u) =>
      Array.from({ length: 6 }, () => {
        const eventId = randomUUID();
        return { u, eventId, r: record(u.auth, { eventId }) };
      }),
    );
    const answers = await Promise.all(sent.map(async (s) => ({ ...s, res: await s.r })));
    for (const u of us) {
      const mine = answers.filter((a) => a.u === u);
      expect(mine.filter((a) => a.res.status === 201)).toHaveLength(5);
      expect(mine.filter((a) => a.res.status === 402)).toHaveLength(1);
      for (const a of mine.filter((x) => x.res.status === 201))
        expect(a.res.body).toMatchObject({ userId: u.id, credits: 1, service: 'keyed' });
      expect(await f.available(u.id)).toBe(0);
    }
    const created = answers.filter((a) => a.res.status === 201);
    const claims = await t.db.query(
      `SELECT owner, event_id, usage_record_id::text AS id FROM usage_event_ids WHERE event_id = ANY($1)`,
      [answers.map((a) => a.eventId)],
    );
    // Each created record's id is claimed in its writer's namespace, for that record; a refused one's is not.
    expect(claims.rows).toHaveLength(created.length);
    for (const a of created)
      expect(claims.rows).toContainEqual({ owner: a.u.id, event_id: a.eventId, id: a.res.body.id });
    // They did arrive together: some transaction carried records of more than one writer.
    expect(Math.max(...(await recordsByTransaction(created.map((a) => a.res.body.id))))).toBeGreaterThan(1);

    // A refused id was given back: once the account has credits, the same id records.
    const refused = answers.find((a) => a.res.status === 402)!;
    await f.grant(refused.u.id, 1);
    const again = await record(refused.u.auth, { eventId: refused.eventId });
    expect(again.status).toBe(201);
    expect(await f.available(refused.u.id)).toBe(0);
  });

  it('one id sent many times at once is recorded once; the others replay it', async () => {
    const u = await f.newUser({ credits: [100] });
    const eventId = randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => record(meter, { userId: u.id, eventId, credits: 3, metadata: { i } })),
    );
    const created = answers.filter((r) => r.status === 201);
    expect(created).toHaveLength(1);
    const replayed = answers.filter((r) => r.status === 200);
    expect(replayed).toHaveLength(11);
    for (const r of replayed) expect(r.body).toEqual(created[0].body);
    expect(await f.available(u.id)).toBe(97);
    // Beside records of other ids and other accounts, through a service key's namespace.
    const other = await f.newUser({ credits: [100] });
    const ids = Array.from({ length: 10 }, () => randomUUID());
    const mixed = await Promise.all(
      [...ids, ...ids].map((id, i) => record(meter, { userId: i % 2 ? u.id : other.id, eventId: id })),
    );
    expect(mixed.filter((r) => r.status === 201)).toHaveLength(10);
    expect(mixed.filter((r) => r.status === 200)).toHaveLength(10);
    expect((await f.available(u.id)) + (await f.available(other.id))).toBe(97 + 100 - 10);
  });

  it('one id sent to two instances at once is recorded once', async () => {
    const b = await startTestApp();
    try {
      const us = await Promise.all(Array.from({ length: 6 }, () => f.newUser({ credits: [100] })));
      const sent = us.flatMap((u) => {
        const ids = Array.from({ length: 4 }, () => randomUUID());
        // Each id to both instances, through the same writer (the service), at once.
        return [...ids, ...ids].map((eventId, i) => ({
          u,
          eventId,
          r: (i % 2 ? b : t).http
            .post('/api/usage/record')
            .set(meter)
            .send({ service: 'keyed', operation: 'op', credits: 2, userId: u.id, eventId }),
        }));
      });
      const answers = await Promise.all(sent.map(async (s) => ({ ...s, res: await s.r })));
      for (const u of us) {
        const mine = answers.filter((a) => a.u === u);
        expect(mine.filter((a) => a.res.status === 201)).toHaveLength(4);
        expect(mine.filter((a) => a.res.status === 200)).toHaveLength(4);
        // Both answers of an id name one record.
        for (const a of mine)
          expect(mine.filter((x) => x.eventId === a.eventId).map((x) => x.res.body.id)).toEqual([
            a.res.body.id,
            a.res.body.id,
          ]);
        expect(await f.available(u.id)).toBe(100 - 4 * 2);
      }
    } finally {
      await b.close();
    }
  });

  it("ids are each writer's own: the same id of two writers is two records", async () => {
    const u = await f.newUser({ credits: [10] });
    const eventId = randomUUID();
    const answers = await Promise.all(
      [meter, otherMeter, meter, otherMeter, u.auth, u.auth].map((auth) =>
        record(auth, auth === u.auth ? { eventId } : { userId: u.id, eventId }),
      ),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([200, 200, 200, 201, 201, 201]);
    expect(new Set(answers.map((r) => r.body.id)).size).toBe(3);
    expect(await f.available(u.id)).toBe(7);
  });
});
