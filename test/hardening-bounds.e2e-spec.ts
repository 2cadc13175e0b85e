import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';

const adminJwt = tokenFor('admin', 'streaming-admin');

// Derived amounts stay in the credit range, one date rule for every date field, and the CSV
// export refuses what the JSON list refuses. Every refused request changes nothing.

let t: TestApp;
const users: string[] = [];
let f: Fixtures;
beforeAll(async () => {
  t = await startTestApp();
  f = new Fixtures(t, { users });
});
afterAll(() => t?.close());

const MAX = 2_147_483_647;

/** A model priced at `creditsPerToken` (default 1, so token counts are credit amounts). */
async function perTokenModel(creditsPerToken = 1): Promise<string> {
  const modelId = `per-token-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  await t.http
    .post('/api/pricing')
    .set(bearer(adminJwt))
    .send({ modelId, pricePer1kTokens: String(creditsPerToken * 1000), providerCostPer1kTokens: '999999.9999' })
    .expect(201);
  return modelId;
}

async function sessionsOf(userId: string) {
  const { rows } = await t.db.query(
    `SELECT (SELECT count(*)::int FROM streaming_sessions WHERE user_id = $1) AS sessions,
            (SELECT count(*)::int FROM credit_holds WHERE member_id = $1) AS holds,
            (SELECT count(*)::int FROM usage_records WHERE user_id = $1) AS records,
            (SELECT count(*)::int FROM credit_ledger WHERE member_id = $1) AS ledger`,
    [userId],
  );
  return rows[0] as { sessions: number; holds: number; records: number; ledger: number };
}

describe('derived amounts stay within PostgreSQL integer', () => {
  it('an estimate whose hold (× 1.2) passes the credit range is a 400, not a 402, even when the balance could pay it', async () => {
    const modelId = await perTokenModel();
    const { id: userId, jwt } = await f.newUser({ credits: [2_000_000_000, 2_000_000_000] });
    const before = await sessionsOf(userId);
    // 1,789,569,706 credits hold ceil(× 1.2) = 2,147,483,648: one beyond integer.
    for (const body of [
      { modelId, estimatedTokens: 1_789_569_706 },
      { modelId, inputTokens: 1_000_000_000, outputTokens: 789_569_706 },
    ]) {
      const res = await t.http.post('/api/streaming-sessions/initialize').set(bearer(jwt)).send(body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', code: 'VALIDATION' });
      expect(res.body.message).toMatch(/hold \(× 1\.2\) of 2147483648 is beyond the largest credit amount/);
    }
    expect(await sessionsOf(userId)).toEqual(before);
    expect(await f.available(userId)).toBe(4_000_000_000);
    // One credit less holds 2,147,483,646: accepted, and the balance pays it.
    const ok = await t.http
      .post('/api/streaming-sessions/initialize')
      .set(bearer(jwt))
      .send({ modelId, estimatedTokens: 1_789_569_705 })
      .expect(201);
    expect(ok.body).toMatchObject({ estimatedCredits: 1_789_569_705, allocatedCredits: 2_147_483_646 });
    expect(await f.available(userId)).toBe(4_000_000_000 - 2_147_483_646);
  });

  it('every priced route refuses tokens that price or add up beyond the range with a 400 and moves nothing', async () => {
    const modelId = await perTokenModel();
    const dear = await perTokenModel(2);
    const { id: userId, jwt } = await f.newUser({ credits: [2_000_000_000, 2_000_000_000] });
    const u = bearer(jwt);
    const session = await t.http
      .post('/api/streaming-sessions/initialize')
      .set(u)
      .send({ modelId, estimatedTokens: 10 })
      .expect(201);
    const { sessionId } = session.body as { sessionId: string };
    const dearSession = await t.http
      .post('/api/streaming-sessions/initialize')
      .set(u)
      .send({ modelId: dear, estimatedTokens: 10 })
      .expect(201);
    const dearId = (dearSession.body as { sessionId: string }).sessionId;
    const before = { ...(await sessionsOf(userId)), available: await f.available(userId) };
    // 1,073,741,824 tokens at 2 credits each = 2^31 credits; a token split summing past 2^31 - 1.
    const beyond: [string, object][] = [
      ['/api/credits/calculate', { modelId: dear, tokens: 1_073_741_824 }],
      ['/api/credits/calculate', { modelId, inputTokens: MAX, outputTokens: 1 }],
      ['/api/usage/record', { service: 'chat', operation: 'x', modelId: dear, tokens: 1_073_741_824 }],
      ['/api/usage/record', { service: 'chat', operation: 'x', modelId, inputTokens: MAX - 1, outputTokens: 2 }],
      ['/api/streaming-sessions/initialize', { modelId: dear, estimatedTokens: 1_073_741_824 }],
      ['/api/streaming-sessions/initialize', { modelId, inputTokens: MAX, outputTokens: 1 }],
      ['/api/streaming-sessions/finalize', { sessionId: dearId, actualTokens: 1_073_741_824 }],
      ['/api/streaming-sessions/finalize', { sessionId, inputTokens: MAX, outputTokens: 1 }],
      ['/api/streaming-sessions/abort', { sessionId: dearId, tokensGenerated: 1_073_741_824 }],
      ['/api/streaming-sessions/abort', { sessionId, inputTokens: MAX, outputTokens: 1 }],
    ];
    for (const [path, body] of beyond) {
      const res = await t.http.post(path).set(u).send(body);
      expect(res.status, `${path} ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.error).toBe('Bad Request');
    }
    expect({ ...(await sessionsOf(userId)), available: await f.available(userId) }).toEqual(before);
    // The largest amount itself is fine: a finalize of 2,147,483,647 credits, paid by the balance.
    const fin = await t.http
      .post('/api/streaming-sessions/finalize')
      .set(u)
      .send({ sessionId, actualTokens: MAX })
      .expect(200);
    expect(fin.body).toMatchObject({ actualCredits: MAX, shortfall: 0 });
  });

  it('calculate takes the same token range as every other priced route', async () => {
    const res = await t.http
      .post('/api/credits/calculate')
      .set(bearer(adminJwt))
      .send({ modelId: 'anthropic.claude-3-haiku-20240307-v1:0', tokens: 2_000_000_000 })
      .expect(200);
    expect(res.body).toMatchObject({ tokens: 2_000_000_000, credits: 500_000 });
    await t.http
      .post('/api/credits/calculate')
      .set(bearer(adminJwt))
      .send({ modelId: 'anthropic.claude-3-haiku-20240307-v1:0', tokens: MAX + 1 })
      .expect(400);
  });

  it('statistics sum beyond the integer range exactly', async () => {
    const { id: userId, jwt } = await f.newUser({ credits: [2_000_000_000, 2_000_000_000] });
    for (const credits of [MAX, 2_000_000_000 * 2 - MAX]) {
      await t.http
        .post('/api/usage/record')
        .set(bearer(jwt))
        .send({ service: 'big', operation: 'x', credits })
        .expect(201);
    }
    const stats = await t.http.get('/api/usage/stats').set(bearer(jwt)).expect(200);
    expect(stats.body).toMatchObject({ totalCredits: 4_000_000_000, byService: { big: 4_000_000_000 } });
    const system = await t.http.get('/api/usage/system-stats?topUsers=1000').set(bearer(adminJwt)).expect(200);
    expect(system.body.byUser[userId]).toBe(4_000_000_000);
  });
});

describe('usage date filters go through the one date rule', () => {
  it('bad dates on every stats and records route are validation errors listing each bad field', async () => {
    const admin = bearer(adminJwt);
    const { id: userId, jwt } = await f.newUser({ credits: 5 });
    const routes: [string, Record<string, string>][] = [
      ['/api/usage/stats?', bearer(jwt)],
      [`/api/usage/stats/${userId}?`, admin],
      ['/api/usage/system-stats?', admin],
      ['/api/usage/records?', bearer(jwt)],
      ['/api/usage/records?format=csv&', bearer(jwt)],
    ];
    for (const [path, auth] of routes) {
      const res = await t.http.get(`${path}startDate=2027-W47&endDate=20271122`).set(auth);
      expect(res.status, path).toBe(400);
      expect(res.headers['content-type'], path).toMatch(/application\/json/);
      expect(res.body.message, path).toEqual([
        'startDate must be an ISO-8601 date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM:SSZ) between years 0001 and 9999',
        'endDate must be an ISO-8601 date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM:SSZ) between years 0001 and 9999',
      ]);
    }
  });
});

describe('the CSV export refuses what the JSON list refuses', () => {
  const forged = (t: string, id: string) => Buffer.from(JSON.stringify({ t, id })).toString('base64url');

  it('a forged or malformed cursor is a 400 before anything is streamed, in both formats', async () => {
    const { jwt } = await f.newUser({ credits: 5 });
    for (const cursor of [
      'not-a-cursor',
      forged('2026-02-30T00:00:00.000000Z', '5b0f3a52-8d4e-4f7e-9c1a-2f1e3d4c5b6a'),
      forged('2026-01-01T00:00:00.000000Z', 'x'),
    ]) {
      for (const format of ['csv', 'json']) {
        const res = await t.http.get(`/api/usage/records?format=${format}&cursor=${cursor}`).set(bearer(jwt));
        expect(res.status, `${format} ${cursor}`).toBe(400);
        expect(res.headers['content-type']).toMatch(/application\/json/);
        expect(res.body).toMatchObject({ statusCode: 400, message: 'cursor is not valid', error: 'Bad Request' });
      }
    }
  });

  it('a cursor continues the export where the JSON page ended', async () => {
    const { jwt } = await f.newUser({ credits: 10 });
    for (const operation of ['first', 'second', 'third']) {
      await t.http
        .post('/api/usage/record')
        .set(bearer(jwt))
        .send({ service: 'chat', operation, credits: 1 })
        .expect(201);
    }
    const page = await t.http.get('/api/usage/records?limit=1').set(bearer(jwt)).expect(200);
    expect(page.body.items.map((r: { operation: string }) => r.operation)).toEqual(['third']);
    const res = await t.http
      .get(`/api/usage/records?format=csv&cursor=${page.body.nextCursor}`)
      .set(bearer(jwt))
      .buffer(true)
      .parse((r, cb) => {
        let text = '';
        r.on('data', (c: Buffer) => (text += c.toString()));
        r.on('end', () => cb(null, text));
      });
    expect(res.status).toBe(200);
    const lines = (res.body as string).split('\r\n').filter(Boolean);
    expect(lines.slice(1).map((l) => l.split(',')[4])).toEqual(['"second"', '"first"']);
  });
});
