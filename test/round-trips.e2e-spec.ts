import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { Response } from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { BATCH_PARTS, partsByAccount } from '../src/usage/batch/usage-batch.service.js';
import { startTestApp, type TestApp, uniqueId } from './support/app.js';
import { type CreatedApiKey, Fixtures, type FixtureUser, principal } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';
import { root } from './support/sources.js';
import { recordSent } from './support/statements.js';

/**
 * A slower engine must not go unnoticed, so the database work of each hot route is
 * counted here and held to docs/benchmarks.md ("Round trips of the hot routes"): round trips (every
 * query node-postgres sends waits for its answer) and statements (those that are not transaction
 * control: BEGIN, COMMIT, …). A rise fails; so does a fall until the table says it, so the numbers
 * there stay true. Each route is sent once to warm up (the account's first request creates it, rules
 * and keys are cached), then counted.
 */
const TABLE_HEADING = '### Round trips of the hot routes';
const SONNET = 'anthropic.claude-3-sonnet-20240229-v1:0';
const CONTROL = /^\s*(BEGIN|START TRANSACTION|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b/i;

interface Count {
  roundTrips: number;
  statements: number;
}

/** The table of docs/benchmarks.md: route → its counts. */
function documented(): Map<string, Count> {
  const text = readFileSync(path.join(root, 'docs/benchmarks.md'), 'utf8');
  const start = text.indexOf(TABLE_HEADING);
  if (start < 0) throw new Error(`docs/benchmarks.md has no "${TABLE_HEADING}"`);
  // The table's lines: the first run of lines starting with `|` after the heading, less its header.
  const lines = text.slice(start).split('\n').slice(1);
  const first = lines.findIndex((line) => line.startsWith('|'));
  const end = lines.findIndex((line, i) => i > first && !line.startsWith('|'));
  const rows = lines.slice(first + 2, end);
  const table = new Map<string, Count>();
  for (const row of rows) {
    const [route, roundTrips, statements] = row
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim());
    table.set(route.replace(/`/g, ''), { roundTrips: Number(roundTrips), statements: Number(statements) });
  }
  return table;
}

describe('round trips of the hot routes', () => {
  let t: TestApp;
  let own: OwnDatabase;
  let f: Fixtures;
  const users: string[] = [];
  const meter = principal('admin', 'trips-meter');
  let serviceKey: CreatedApiKey;
  let u: FixtureUser;
  let many: FixtureUser[];
  let member: FixtureUser;
  let orgId: string;
  const measured = new Map<string, Count & { sent: string[] }>();

  beforeAll(async () => {
    // Nothing else may send statements while one is counted: no jobs, no pricing reload, and a
    // database of its own (another spec file's pricing change, announced by NOTIFY, would make the
    // next request here reload the pricing cache). Metering by service principals, as `npm run bench` does.
    own = await ownDatabase('round_trips');
    t = await startTestApp({
      DATABASE_URL: own.url,
      JOBS_ENABLED: 'false',
      PRICING_CACHE_TTL_MS: '3600000',
      METERING_TRUST: 'service',
    });
    f = new Fixtures(t, { users, prefix: 'trips' });
    await t.http.get('/api/users/me').set(meter.auth).expect(200);
    serviceKey = await f.apiKey(meter, { name: 'trips-gateway', permissions: ['usage:ingest'] });
    u = await f.newUser({ credits: 100_000 });
    many = await Promise.all(Array.from({ length: 10 }, () => f.newUser({ credits: 10_000 })));
    // The batch's parts are by account (a hash of its id): ten random users can all fall in one part
    // (about 1 in 500), and the count would then read one statement. The batch spans every part.
    const events = async (users: FixtureUser[]) => {
      const { rows } = await t.db.query<{ user_id: string; account_id: string }>(
        `SELECT user_id, account_id FROM accounts WHERE user_id = ANY($1)`,
        [users.map((user) => user.id)],
      );
      const ids = new Map(rows.map((r) => [r.user_id, r.account_id]));
      return Array.from({ length: 100 }, (_, i) => ({ input: { accountId: ids.get(users[i % users.length].id)! } }));
    };
    while (partsByAccount(await events(many), BATCH_PARTS).length < BATCH_PARTS)
      many[many.length - 1] = await f.newUser({ credits: 10_000 });
    member = await f.newUser();
    orgId = uniqueId('trips-org').toLowerCase();
    await t.db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'admin')`, [orgId]);
    await t.db.query(
      `WITH m AS (INSERT INTO org_members (org_id, user_id, role) VALUES ($1, $2, 'member'))
       INSERT INTO credit_caps (subject_kind, subject_id, account_id, credit_limit, period)
       VALUES ('member', $2, (SELECT account_id FROM accounts WHERE org_id = $1), 1000000, 'day')`,
      [orgId, member.id],
    );
    await t.db.query(
      `SELECT 1 FROM credits_grant((SELECT account_id FROM accounts WHERE org_id = $1), 100000, 'admin', now() + interval '30 days', NULL, 'manual', NULL, NULL, NULL,
                                   false)`,
      [orgId],
    );
    await t.http.get(`/api/pricing/${SONNET}`).set(u.auth).expect(200);
    // A metered feature granted to u by an override: a check reads a grant and, consuming, counts.
    await meterPost('/api/features', { featureKey, name: 'Trips', type: 'metered' }).expect(201);
    await t.http
      .put(`/api/entitlements/${featureKey}`)
      .set(meter.auth)
      .send({ userId: u.id, grant: { limit: 1000, period: 'month' } })
      .expect(200);
  });
  afterEach(() => expectInvariants(t, users));
  afterAll(async () => {
    await t?.close();
    await own?.drop();
  });

  const meterPost = (route: string, body: object) => t.http.post(route).set(meter.auth).send(body);
  const featureKey = `trips.${Date.now().toString(36)}`;
  const check = (body: object = {}) =>
    t.http
      .post('/api/entitlements/check')
      .set(u.auth)
      .send({ featureKey, ...body });
  const record = (body: object = {}) =>
    meterPost('/api/usage/record', { userId: u.id, service: 'trips', operation: 'op', credits: 1, ...body });
  const batch = () =>
    meterPost('/api/usage/records/batch', {
      events: Array.from({ length: 100 }, (_, i) => ({
        eventId: `trips-${randomUUID()}`,
        userId: many[i % many.length].id,
        service: 'trips',
        operation: 'op',
        credits: 1,
      })),
    });
  let session = '';
  const initialize = () => {
    session = `trips-${randomUUID()}`;
    return meterPost('/api/streaming-sessions/initialize', {
      userId: u.id,
      sessionId: session,
      modelId: SONNET,
      estimatedTokens: 1000,
    });
  };
  const finalize = () =>
    meterPost('/api/streaming-sessions/finalize', { userId: u.id, sessionId: session, actualTokens: 1200 });

  /** The routes counted, by their name in the table, each sent by `send` with the status it answers. */
  const routes: [name: string, status: number, send: () => PromiseLike<Response>][] = [
    ['GET /api/credits/balance', 200, () => t.http.get('/api/credits/balance').set(u.auth)],
    ['POST /api/credits/check', 200, () => t.http.post('/api/credits/check').set(u.auth).send({ credits: 1 })],
    ['POST /api/entitlements/check', 200, () => check()],
    ['POST /api/entitlements/check (consume)', 200, () => check({ consume: 1 })],
    ['POST /api/usage/record', 201, () => record()],
    ['POST /api/usage/record (eventId)', 201, () => record({ eventId: `trips-${randomUUID()}` })],
    ['POST /api/usage/record (org member)', 201, () => record({ userId: member.id, orgId })],
    [
      'POST /api/usage/record (service key)',
      201,
      () =>
        t.http
          .post('/api/usage/record')
          .set({ 'X-API-Key': serviceKey.key })
          .send({ userId: u.id, service: 'trips', operation: 'op', credits: 1 }),
    ],
    ['POST /api/streaming-sessions/initialize', 201, initialize],
    ['POST /api/streaming-sessions/finalize', 200, finalize],
    ['POST /api/usage/records/batch (100 events)', 200, batch],
  ];

  it('counts each hot route, as docs/benchmarks.md says', async () => {
    for (const [name, status, send] of routes) {
      const warm = await send();
      expect(warm.status, `${name}: ${JSON.stringify(warm.body)}`).toBe(status);
      // finalize settles the session the warm-up opened: open another to count.
      if (name.endsWith('/finalize')) await initialize().expect(201);
      const { result, sent } = await recordSent(send);
      expect(result.status, `${name}: ${JSON.stringify(result.body)}`).toBe(status);
      const texts = sent.map((s) => s.text.replace(/\s+/g, ' ').trim());
      measured.set(name, {
        roundTrips: sent.length,
        statements: texts.filter((text) => !CONTROL.test(text)).length,
        sent: texts.map((text) => text.slice(0, 80)),
      });
    }
    if (process.env.ROUND_TRIPS_PRINT === '1') {
      for (const [name, c] of measured) console.log(`| ${name} | ${c.roundTrips} | ${c.statements} |`, c.sent);
    }
    const table = documented();
    for (const [name, c] of measured) {
      const doc = table.get(name);
      expect(doc, `docs/benchmarks.md has no row for ${name}`).toBeDefined();
      // A rise is a regression; a fall is progress: write it in the table.
      expect({ roundTrips: c.roundTrips, statements: c.statements }, `${name} sent:\n  ${c.sent.join('\n  ')}`).toEqual(
        doc,
      );
    }
    expect([...table.keys()].sort()).toEqual([...measured.keys()].sort());
  });
});
