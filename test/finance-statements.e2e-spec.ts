import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CLOCK, type Clock } from '../src/common/clock.js';
import { CreditExpiryJob } from '../src/plans/credit-expiry.job.js';
import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { expireAllocationNow, freezeClock } from './support/clock.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';
import { Metering } from './support/metering.js';

const DAY = 86_400_000;
// The PDF is read back with poppler's pdftotext (Debian: poppler-utils; .ci/run installs it).
const pdftotext = spawnSync('pdftotext', ['-v']).error === undefined;
if (!pdftotext) console.warn('statement PDF test skipped: no pdftotext (apt-get install poppler-utils)');
const month = (at: Date) => at.toISOString().slice(0, 7);

describe('monthly statements', () => {
  let t: TestApp;
  let f: Fixtures;
  let m: Metering;
  let u: FixtureUser;
  let purchaseId: string;
  const admin = bearer(tokenFor('admin', 'statements-admin'));
  const supervisor = bearer(tokenFor('supervisor', 'statements-supervisor'));
  const now = month(new Date());

  beforeAll(async () => {
    t = await startTestApp({ PLATFORM_NAME: 'Acme Cloud' });
    f = new Fixtures(t, { prefix: 'stm' });
    m = await Metering.start(t);
    // A month with a grant that expires unused, a purchase, records, a settled session and an open one.
    u = await f.newUser();
    const grant = (await f.allocate(u.id, { credits: 100, expiryDays: 1 }).expect(201)).body;
    await expireAllocationNow(t.db, grant.id);
    await t.app.get(CreditExpiryJob).expireDue();
    const created = await t.http
      .post('/api/purchases')
      .set(admin)
      .send({ userId: u.id, credits: 1000, amount: '10.00', currency: 'usd', provider: 'manual' })
      .expect(201);
    purchaseId = created.body.id;
    await t.http.post(`/api/purchases/${purchaseId}/paid`).set(admin).send({}).expect(200);
    await f.recordUsage(u, 300).expect(201);
    await f.recordUsage(u, 33).expect(201);
    await m.initialize(u.id, 's1', 50); // holds 60
    await m.finalize(u.id, 's1', 40);
    await m.initialize(u.id, 's2', 100); // holds 120, still open
  });
  afterAll(() => t.close());

  const statement = (
    auth: Record<string, string>,
    query: Record<string, string> = {},
    url = '/api/credits/statement',
  ) => t.http.get(url).set(auth).query(query);

  it('lists the month’s movements, one usage line per day; opening + lines = closing, holds included', async () => {
    const res = await statement(u.auth, { month: now }).expect(200);
    const today = new Date().toISOString().slice(0, 10);
    expect(res.body).toMatchObject({ userId: u.id, month: now, openingCredits: 0, closingCredits: 627 });
    expect(
      res.body.lines.map((l: { kind: string; credits: number; date: string }) => [l.date, l.kind, l.credits]),
    ).toEqual([
      [today, 'grant', 100],
      [today, 'expiry', -100],
      [today, 'purchase', 1000],
      [today, 'usage', -373],
    ]);
    expect(res.body.lines[2].description).toBe(`Purchase ${purchaseId}`);
    expect(res.body.usage).toEqual({
      byService: { chat: 333, 'chat-streaming': 40 },
      byModel: { none: 333, [m.model]: 40 },
      byServiceTier: { default: 373 },
      unitsByName: {},
    });
    // The held 120 have not been consumed: they count in the closing, not in the balance.
    const balance = (await t.http.get('/api/credits/balance').set(u.auth).expect(200)).body;
    expect(balance).toMatchObject({ totalCredits: 507, heldCredits: 120, debt: 0 });
    expect(res.body.closingCredits).toBe(balance.totalCredits + balance.heldCredits);
    // the default month is the current one; staff read the same through the user's route
    expect((await statement(u.auth).expect(200)).body).toEqual(res.body);
    const ofUser = await statement(supervisor, { month: now }, `/api/credits/statement/${u.id}`).expect(200);
    expect(ofUser.body).toEqual(res.body);
  });

  it('breaks the month’s usage down by service tier (credits) and unit (counts)', async () => {
    const model = uniqueId('openai.stm-dims');
    await t.http
      .post('/api/pricing')
      .set(admin)
      .send({
        modelId: model,
        pricePer1kTokens: '1',
        serviceTiers: { flex: { pricePercent: 50 }, priority: { pricePercent: 200 } },
        unitPrices: { web_search_call: '0.5' },
      })
      .expect(201);
    const v = await f.newUser({ credits: 100 });
    const record = (body: object) =>
      t.http
        .post('/api/usage/record')
        .set(admin)
        .send({ userId: v.id, service: 'chat', operation: 'c', modelId: model, ...body })
        .expect(201);
    await record({ inputTokens: 4000, serviceTier: 'flex' }); // 2
    await record({ inputTokens: 1000, serviceTier: 'priority', units: { web_search_call: 3 } }); // (1 + 1.5) × 2 = 5
    await record({ inputTokens: 3000, units: { web_search_call: 2 } }); // 3 + 1 = 4
    const res = await statement(v.auth, { month: now }).expect(200);
    expect(res.body.usage).toEqual({
      byService: { chat: 11 },
      byModel: { [model]: 11 },
      byServiceTier: { default: 4, flex: 2, priority: 5 },
      unitsByName: { web_search_call: 5 },
    });
  });

  it('answers CSV with the same figures', async () => {
    const json = (await statement(u.auth, { month: now }).expect(200)).body;
    const res = await statement(u.auth, { month: now, format: 'csv' }).expect(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    const rows = parse(res.text, { columns: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => [r.kind, Number(r.credits), r.value, r.currency])).toEqual([
      ['opening', 0, '', ''],
      ...json.lines.map((l: { kind: string; credits: number; value?: string; currency?: string }) => [
        l.kind,
        l.credits,
        l.value ?? '',
        l.currency ?? '',
      ]),
      ['closing', 627, '', ''],
    ]);
  });

  it.skipIf(!pdftotext)(
    'answers a PDF naming the platform, the account and the month, with the JSON’s figures',
    async () => {
      const json = (await statement(u.auth, { month: now }).expect(200)).body;
      const res = await statement(u.auth, { month: now, format: 'pdf' })
        .buffer(true)
        .parse((r, cb) => {
          // kept as bytes: supertest parses no PDF
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => cb(null, Buffer.concat(chunks)));
        })
        .expect(200);
      expect(res.headers['content-type']).toBe('application/pdf');
      const pdf = res.body as Buffer;
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
      const dir = mkdtempSync(path.join(tmpdir(), 'statement-'));
      const file = path.join(dir, 'statement.pdf');
      writeFileSync(file, pdf);
      const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
      expect(text).toContain('Acme Cloud');
      expect(text).toContain(`User ${u.id}`);
      expect(text).toContain(`Credit statement for ${now} (UTC)`);
      expect(text).toMatch(/Opening credits: 0\b/);
      expect(text).toMatch(/Closing credits: 627\b/);
      // every line, with its credits and value as the JSON has them, in order
      const shown = text
        .split('\n')
        .map((l) => /^\s*(\d{4}-\d{2}-\d{2})\s+([a-z_]+)\s+(-?[\d,]+)\s+(?:(-?[\d.]+) ([A-Z]{3})\s)?/.exec(l))
        .filter((r) => r !== null)
        .map((r) => [r[1], r[2], Number(r[3].replaceAll(',', '')), r[4] ?? null, r[5]?.toLowerCase() ?? null]);
      type Line = { date: string; kind: string; credits: number; value?: string; currency?: string };
      expect(shown).toEqual(
        json.lines.map((l: Line) => [l.date, l.kind, l.credits, l.value ?? null, l.currency ?? null]),
      );
      // an allocation's or a purchase's id is never broken across lines (it is what a reader copies)
      const ids = json.lines.map((l: { description: string }) => /\S{30,}$/.exec(l.description)?.[0]).filter(Boolean);
      expect(ids.length).toBeGreaterThan(0);
      for (const id of ids) expect(text).toContain(id.replace(/\)$/, ''));
      if (process.env.STATEMENT_PNG)
        execFileSync('pdftoppm', ['-png', '-r', '80', '-singlefile', file, process.env.STATEMENT_PNG]);
    },
  );

  it('one month’s closing is the next one’s opening; a month not begun is a 400', async () => {
    const closing = (await statement(u.auth, { month: now }).expect(200)).body.closingCredits;
    await statement(u.auth, { month: '2099-01' }).expect(400);
    await statement(u.auth, { month: '2026-13' }).expect(400);
    const appClock = t.app.get<Clock>(CLOCK);
    const wall = appClock.now;
    const clock = freezeClock(t);
    clock.advance(40 * DAY);
    const next = month(new Date(Date.now() + 40 * DAY));
    const later = await statement(u.auth, { month: next }).expect(200);
    expect(later.body).toMatchObject({ month: next, openingCredits: closing, closingCredits: closing, lines: [] });
    const before = await statement(u.auth, { month: '2020-01' }).expect(200);
    expect(before.body).toMatchObject({ openingCredits: 0, closingCredits: 0, lines: [] });
    appClock.now = wall; // the wall clock again, for the tests after this one
  });

  it('an organisation’s statement for its readers and staff', async () => {
    const owner = await f.newUser();
    const orgId = uniqueId('stmorg').toLowerCase();
    await t.http.post('/api/orgs').set(supervisor).send({ orgId, name: 'Team', ownerUserId: owner.id }).expect(201);
    await t.http.post('/api/credits/allocate').set(admin).send({ orgId, credits: 500, notes: 'Team pool' }).expect(201);
    const res = await statement(owner.auth, { month: now }, `/api/orgs/${orgId}/statement`).expect(200);
    expect(res.body).toMatchObject({ orgId, openingCredits: 0, closingCredits: 500 });
    expect(res.body.lines.map((l: { kind: string; credits: number }) => [l.kind, l.credits])).toEqual([['grant', 500]]);
    expect(res.body.userId).toBeUndefined();
    await statement(u.auth, { month: now }, `/api/orgs/${orgId}/statement`).expect(404);
  });
});
