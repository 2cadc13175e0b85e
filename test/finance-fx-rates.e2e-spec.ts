import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { SchedulerRegistry } from '@nestjs/schedule';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { FX_RATES_EVERY_MS, FxRatesJob } from '../src/finance/fx/fx-rates.job.js';
import { bearer, startTestApp, type TestApp } from './support/app.js';
import { tokenFor } from './support/fixtures.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';

const admin = bearer(tokenFor('admin', 'fx-admin'));
const supervisor = bearer(tokenFor('supervisor', 'fx-supervisor'));
const user = bearer(tokenFor('user', 'fx-user'));

/** A local stand-in for FX_RATES_URL: answers `answer` (status and body text) to every GET. */
async function feedServer(): Promise<{
  url: string;
  answer: { status: number; body: string };
  close(): Promise<void>;
}> {
  const answer = { status: 200, body: '{}' };
  const server = http.createServer((_req, res) => {
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/rates.json`,
    answer,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * FX rates by UTC day (docs/finance.md "The reporting currency"): PUT /api/finance/fx-rates checked
 * whole and audited, GET listing them, and the FX_RATES_URL job against a local server: a good body
 * stored as a PUT stores it, a bad one (or a failed fetch) storing nothing and tried again later.
 */
describe('finance: FX rates by day', () => {
  let own: OwnDatabase;
  let t: TestApp;
  let feed: Awaited<ReturnType<typeof feedServer>>;

  beforeAll(async () => {
    feed = await feedServer();
    own = await ownDatabase('fx_rates');
    t = await startTestApp({
      DATABASE_URL: own.url,
      JOBS_ENABLED: 'false',
      FX_RATES_URL: feed.url,
      FX_RATES_RETRY_SECONDS: '600',
    });
  });
  afterAll(async () => {
    await t?.close();
    await own?.drop();
    await feed?.close();
  });

  const put = (body: unknown) =>
    t.http
      .put('/api/finance/fx-rates')
      .set(admin)
      .send(body as object);
  const list = (from: string, to: string) =>
    t.http.get('/api/finance/fx-rates').query({ from, to }).set(supervisor).expect(200);

  it('stores a day’s rates, canonical, and lists them; a PUT replaces the day whole, audited', async () => {
    const first = await put({ date: '2026-11-02', rates: { eur: '1.0812', jpy: '0.0067120', kwd: '3.2605' } }).expect(
      200,
    );
    expect(first.body).toEqual({
      base: 'usd',
      date: '2026-11-02',
      rates: { eur: '1.0812', jpy: '0.006712', kwd: '3.2605' },
    });
    await put({ date: '2026-11-03', rates: { eur: '1.0799', usd: '1' } }).expect(200);
    const again = await put({ date: '2026-11-02', rates: { eur: '1.0801' } }).expect(200);
    expect(again.body.rates).toEqual({ eur: '1.0801' });
    expect((await list('2026-11-01', '2026-11-04')).body).toEqual({
      base: 'usd',
      from: '2026-11-01',
      to: '2026-11-04',
      days: [
        { date: '2026-11-02', rates: { eur: '1.0801' } },
        { date: '2026-11-03', rates: { eur: '1.0799' } },
      ],
    });
    expect((await list('2026-11-03', '2026-11-04')).body.days).toEqual([
      { date: '2026-11-03', rates: { eur: '1.0799' } },
    ]);
    const audit = await t.db.query(
      `SELECT action, target_type, actor_user_id, before, after FROM audit_log WHERE action = 'finance.fx_rates' AND target_id = '2026-11-02' ORDER BY at, id`,
    );
    expect(audit.rows.map((r) => [r.action, r.target_type, r.actor_user_id])).toEqual([
      ['finance.fx_rates', 'fx_rates', 'fx-admin'],
      ['finance.fx_rates', 'fx_rates', 'fx-admin'],
    ]);
    expect(audit.rows[1].before).toEqual({
      base: 'usd',
      date: '2026-11-02',
      rates: { eur: '1.0812', jpy: '0.006712', kwd: '3.2605' },
    });
    expect(audit.rows[1].after).toEqual({ base: 'usd', date: '2026-11-02', rates: { eur: '1.0801' } });
  });

  it('refuses a bad day or rate whole (400, nothing changed); only admins store, supervisors read', async () => {
    const before = (await list('2026-11-01', '2026-12-01')).body;
    const bad: [unknown, RegExp][] = [
      [{ date: '2026-02-30', rates: { eur: '1.08' } }, /date must be a UTC day/],
      [{ date: '2026-11-05', rates: { eur: '1.08', xxx: '2' } }, /rates\.xxx: not an ISO 4217 code/],
      [{ date: '2026-11-05', rates: { eur: '1.081234567891' } }, /at most 10 significant digits/],
      [{ date: '2026-11-05', rates: { eur: '0' } }, /must be more than 0/],
      [{ date: '2026-11-05', rates: { eur: '-1.08' } }, /must be a decimal string/],
      [{ date: '2026-11-05', rates: { eur: 1.08 } }, /must be a decimal string/],
      [{ date: '2026-11-05', rates: { eur: '1.08', usd: '1.01' } }, /rates\.usd must be 1/],
      [{ date: '2026-11-05', rates: {} }, /at least one currency/],
    ];
    for (const [body, message] of bad) {
      const res = await put(body).expect(400);
      expect(JSON.stringify(res.body.message), JSON.stringify(body)).toMatch(message);
    }
    // 10 significant digits are enough, leading and trailing zeros are not digits that count.
    await put({ date: '2026-11-05', rates: { jpy: '0.000006712345678', kwd: '3260.512345' } }).expect(200);
    await t.http
      .put('/api/finance/fx-rates')
      .set(supervisor)
      .send({ date: '2026-11-06', rates: { eur: '1' } })
      .expect(403);
    await t.http.get('/api/finance/fx-rates').query({ from: '2026-11-01', to: '2026-11-02' }).set(user).expect(403);
    await t.http.get('/api/finance/fx-rates').query({ from: '2026-11-02', to: '2026-11-01' }).set(admin).expect(400);
    await t.http.get('/api/finance/fx-rates').query({ from: '2025-01-01', to: '2026-11-01' }).set(admin).expect(400);
    const after = (await list('2026-11-01', '2026-12-01')).body;
    expect(after.days).toEqual([
      ...before.days,
      { date: '2026-11-05', rates: { jpy: '0.000006712345678', kwd: '3260.512345' } },
    ]);
  });

  it('FX_RATES_URL: a good body is stored as a PUT stores it, the next read a day later', async () => {
    feed.answer.status = 200;
    feed.answer.body = JSON.stringify({ date: '2026-11-10', base: 'USD', rates: { EUR: '1.0815', jpy: '0.00671' } });
    const run = await t.app.get(FxRatesJob).run();
    expect(run).toEqual({ stored: { date: '2026-11-10', currencies: 2 }, error: null, nextInMs: FX_RATES_EVERY_MS });
    expect((await list('2026-11-10', '2026-11-11')).body.days).toEqual([
      { date: '2026-11-10', rates: { eur: '1.0815', jpy: '0.00671' } },
    ]);
  });

  it('FX_RATES_URL: a bad body, a failed fetch or another base store nothing, logged and tried again later', async () => {
    const job = t.app.get(FxRatesJob);
    const stored = (await list('2026-11-10', '2026-11-11')).body.days;
    const answers: [number, string, RegExp][] = [
      [
        200,
        JSON.stringify({ date: '2026-11-10', base: 'usd', rates: { eur: '1.09', jpy: 'lots' } }),
        /rates\.jpy must be a decimal/,
      ],
      [
        200,
        JSON.stringify({ date: '2026-11-10', base: 'eur', rates: { usd: '0.92' } }),
        /base must be the reporting currency usd/,
      ],
      [200, JSON.stringify({ date: '11/10/2026', base: 'usd', rates: { eur: '1.09' } }), /date must be a UTC day/],
      [200, 'not json', /not JSON/],
      [503, '{"error":"down"}', /HTTP 503/],
    ];
    for (const [status, body, error] of answers) {
      feed.answer.status = status;
      feed.answer.body = body;
      const run = await job.run();
      expect(run.stored, body).toBeNull();
      expect(run.error, body).toMatch(error);
      expect(run.nextInMs).toBe(600_000);
    }
    // Nothing of the refused bodies was stored, not even their good rates (eur 1.09).
    expect((await list('2026-11-10', '2026-11-11')).body.days).toEqual(stored);
    expect(t.logs.some((line) => line.includes('FX rates not read from FX_RATES_URL'))).toBe(true);
  });
});

/** At start-up, where the jobs run: read once, and the next read timed by the outcome. */
describe('finance: FX_RATES_URL at start-up', () => {
  let own: OwnDatabase;
  let feed: Awaited<ReturnType<typeof feedServer>>;
  beforeAll(async () => {
    feed = await feedServer();
    own = await ownDatabase('fx_startup');
  });
  afterAll(async () => {
    await own?.drop();
    await feed?.close();
  });

  async function started(status: number, body: string): Promise<{ nextMs: number; days: unknown[] }> {
    feed.answer.status = status;
    feed.answer.body = body;
    const t = await startTestApp({ DATABASE_URL: own.url, JOBS_ENABLED: 'true', FX_RATES_URL: feed.url });
    try {
      await t.app.get(FxRatesJob).whenIdle();
      const timer = t.app.get(SchedulerRegistry).getTimeout('fx-rates') as NodeJS.Timeout & { _idleTimeout: number };
      const list = await t.http.get('/api/finance/fx-rates').query({ from: '2026-11-20', to: '2026-11-21' }).set(admin);
      return { nextMs: timer._idleTimeout, days: list.body.days };
    } finally {
      await t.close();
    }
  }

  it('a refused body: nothing stored, tried again after FX_RATES_RETRY_SECONDS (900 s)', async () => {
    const run = await started(
      200,
      JSON.stringify({ date: '2026-11-20', base: 'usd', rates: { eur: '1.0812', kwd: '' } }),
    );
    expect(run).toEqual({ nextMs: 900_000, days: [] });
  }, 60_000);

  it('a good body: stored, read again in 24 h', async () => {
    const run = await started(200, JSON.stringify({ date: '2026-11-20', base: 'usd', rates: { eur: '1.0812' } }));
    expect(run).toEqual({ nextMs: FX_RATES_EVERY_MS, days: [{ date: '2026-11-20', rates: { eur: '1.0812' } }] });
  }, 60_000);
});
