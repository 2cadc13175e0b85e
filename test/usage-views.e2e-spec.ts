import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { Fixtures } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

// "Fail closed, stay up" for what usage views show: CSV cells no spreadsheet runs, statistics keyed by
// any text, and the review status on every view of a record.

let t: TestApp;
let f: Fixtures;
const users: string[] = [];
const admin = bearer(token({ sub: uniqueId('views-admin'), role: 'admin' }));

beforeAll(async () => {
  t = await startTestApp();
  f = new Fixtures(t, { users, prefix: 'views' });
});
afterAll(async () => {
  await expectInvariants(t, users);
  await t.close();
});

/** Reads a whole text/csv answer. */
async function csv(path: string, auth: { Authorization: string }) {
  const res = await t.http
    .get(path)
    .set(auth)
    .buffer(true)
    .parse((r, cb) => {
      let text = '';
      r.on('data', (c: Buffer) => (text += c.toString()));
      r.on('end', () => cb(null, text));
    });
  expect(res.status).toBe(200);
  return res.body as string;
}

/** Cells as a reader splitting on `separator` and line breaks sees them, leading quote marks dropped. */
const cellsSplitOn = (text: string, separator: string) =>
  text.split(new RegExp(`[${separator}\r\n]`)).map((cell) => cell.replace(/^"+/, ''));

describe('CSV export cells', () => {
  const NASTY = ["ok;=cmd|' /C calc'!A0", '=HYPERLINK("http://x")', ' +1', '\t@SUM(A1)', '-2+3', 'a,=b', 'tab\t=1'];

  it('quotes every text cell, and no cell reads as a formula with `,`, `;` or tab as separator', async () => {
    const u = await f.newUser({ credits: 100 });
    for (const [i, text] of NASTY.entries()) {
      await t.http
        .post('/api/usage/record')
        .set(u.auth)
        // Model ids hold no whitespace: their cells get the formula triggers without it.
        .send({
          service: text,
          operation: text,
          modelId: `m-${i}${text.replace(/\s/g, '')}`,
          credits: 1,
          metadata: { note: text },
        })
        .expect(201);
    }
    for (const path of ['/api/usage/records/export', '/api/usage/records?format=csv']) {
      const text = await csv(path, u.auth);
      const lines = text.split('\r\n').filter(Boolean);
      expect(lines).toHaveLength(NASTY.length + 1);
      // The first service recorded is the last line (newest first): quoted whole, its formula defused.
      expect(lines.at(-1)).toContain(`,"ok;'=cmd|' /C calc'!A0","ok;'=cmd|' /C calc'!A0",1,`);
      for (const line of lines.slice(1)) {
        expect(line).toMatch(
          /^"[0-9a-f-]{36}","views-[^"]+","[0-9T:.Z-]+","(?:[^"]|"")*","(?:[^"]|"")*",1,"(?:[^"]|"")*",,,,,,,"billed","(?:[^"]|"")*",,,,,$/,
        );
      }
      for (const separator of [',', ';', '\t'])
        for (const cell of cellsSplitOn(text, separator))
          expect(cell, `${JSON.stringify(cell)} split on ${JSON.stringify(separator)}`).not.toMatch(
            /^(?:[^\S\t\r\n]|")*[=+\-@\t\r]/,
          );
    }
  });
});

describe('statistics count every key, whatever its text', () => {
  const KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];

  it('a user’s byService and byModel', async () => {
    const u = await f.newUser({ credits: 100 });
    for (const [i, key] of KEYS.entries())
      await t.http
        .post('/api/usage/record')
        .set(u.auth)
        .send({ service: key, operation: 'op', modelId: key, credits: i + 1 })
        .expect(201);
    const res = await t.http.get('/api/usage/stats').set(u.auth).expect(200);
    // JSON.parse keeps "__proto__" as an own key; toEqual compares own keys only.
    const expected = Object.fromEntries(KEYS.map((key, i) => [key, i + 1]));
    expect(res.body.totalCredits).toBe(10);
    expect(Object.keys(res.body.byService).sort()).toEqual([...KEYS].sort());
    expect(res.body.byService).toEqual(expected);
    expect(res.body.byModel).toEqual(expected);
    expect(res.text).toContain('"__proto__":1');
  });

  it('system-wide byService, byModel and marginByModel', async () => {
    // A window in 1998 only this test writes to (spec files share the database).
    const u = await f.newUser({ track: false });
    await t.db.query(
      `INSERT INTO usage_records (user_id, "timestamp", service, operation, credits, model_id, provider_cost, account_id)
       SELECT $1, '1998-03-01T12:00:00Z'::timestamptz + i::int * interval '1 minute', k, 'op', i::int, k, i * 0.5, (SELECT account_id FROM accounts WHERE user_id = $1::varchar)
         FROM unnest($2::text[]) WITH ORDINALITY AS x(k, i)`,
      [u.id, KEYS],
    );
    const res = await t.http
      .get('/api/usage/system-stats?startDate=1998-03-01&endDate=1998-03-01')
      .set(admin)
      .expect(200);
    const expected = Object.fromEntries(KEYS.map((key, i) => [key, i + 1]));
    expect(res.body).toMatchObject({ totalRecords: 4, totalCredits: 10 });
    expect(res.body.byService).toEqual(expected);
    expect(res.body.byModel).toEqual(expected);
    expect(res.body.marginByModel).toEqual(
      Object.fromEntries(KEYS.map((key, i) => [key, { credits: i + 1, providerCost: String((i + 1) * 0.5) }])),
    );
  });
});

describe('reviewStatus on every view of a record', () => {
  it('null without a review; open, then resolved, in the list, recentActivity and the review queue', async () => {
    const u = await f.newUser({ credits: 2 });
    const plain = await t.http
      .post('/api/usage/record')
      .set(u.auth)
      .send({ service: 'chat', operation: 'plain', credits: 0 })
      .expect(201);
    expect(plain.body.reviewStatus).toBeNull();
    // 1 credit estimated (hold 2); 6,250 tokens cost 5: the 3 the balance lacks are a shortfall.
    const sessionId = `views-${randomUUID()}`;
    await t.http
      .post('/api/streaming-sessions/initialize')
      .set(u.auth)
      .send({ sessionId, modelId: 'anthropic.claude-instant-v1', estimatedTokens: 1000 })
      .expect(201);
    const fin = await t.http
      .post('/api/streaming-sessions/finalize')
      .set(u.auth)
      .send({ sessionId, actualTokens: 6250 })
      .expect(200);
    expect(fin.body.shortfall).toBe(3);
    const { rows } = await t.db.query(`SELECT id FROM usage_records WHERE metadata->>'sessionId' = $1`, [sessionId]);
    const reviewed = rows[0].id as string;

    const statuses = async () => {
      const list = await t.http.get('/api/usage/records').set(u.auth).expect(200);
      const stats = await t.http.get('/api/usage/stats').set(u.auth).expect(200);
      const of = (items: { id: string; reviewStatus: unknown }[]) =>
        Object.fromEntries(items.map((r) => [r.id, r.reviewStatus]));
      return { list: of(list.body.items), recent: of(stats.body.recentActivity) };
    };
    expect(await statuses()).toEqual({
      list: { [plain.body.id]: null, [reviewed]: 'open' },
      recent: { [plain.body.id]: null, [reviewed]: 'open' },
    });
    const queue = await t.http.get('/api/credits/review?limit=500').set(admin).expect(200);
    expect(queue.body.items).toContainEqual(expect.objectContaining({ usageRecordId: reviewed, reviewStatus: 'open' }));

    await t.http.post(`/api/usage/records/${reviewed}/resolve`).set(admin).send({ action: 'write_off' }).expect(200);
    expect(await statuses()).toEqual({
      list: { [plain.body.id]: null, [reviewed]: 'resolved' },
      recent: { [plain.body.id]: null, [reviewed]: 'resolved' },
    });
    const resolved = await t.http.get('/api/credits/review?status=resolved&limit=500').set(admin).expect(200);
    expect(resolved.body.items).toContainEqual(
      expect.objectContaining({ usageRecordId: reviewed, reviewStatus: 'resolved' }),
    );
  });
});
