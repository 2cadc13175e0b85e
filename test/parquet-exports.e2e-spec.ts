import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ExportsService } from '../src/exports/exports.service.js';
import { bearer, startTestApp, type TestApp } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';
import { duckQuery, readExported } from './support/parquet.js';
import { expectEveryRowOnce, waitForRuns, watermarks } from './support/parquet-checks.js';

// Parquet exports (docs/exports.md) on a database of this file's own, so every row in it is one this
// file made and the files can be held to the tables row for row.
let own: OwnDatabase;
let dir: string;
let t: TestApp;
let f: Fixtures;
const admin = bearer(tokenFor('admin', 'exports-admin'));
const supervisor = bearer(tokenFor('supervisor', 'exports-supervisor'));

beforeAll(async () => {
  own = await ownDatabase('exports');
  dir = await mkdtemp(path.join(tmpdir(), 'accounting-exports-'));
  t = await startTestApp({ DATABASE_URL: own.url, EXPORT_DIR: dir, JOBS_ENABLED: 'false' });
  f = new Fixtures(t);
}, 180_000);
afterAll(async () => {
  await t?.close();
  await own?.drop();
  await rm(dir, { recursive: true, force: true });
});

async function runExport(app: TestApp = t) {
  const res = await app.http.post('/api/exports/run').set(admin).send();
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect(res.body).toMatchObject({ status: 'running', trigger: 'manual', createdBy: 'exports-admin' });
  const [run] = await waitForRuns(app, [res.body.id as string]);
  expect(run.status, JSON.stringify(run)).toBe('completed');
  return run;
}

/**
 * Runs again until every row is below the watermarks: a transaction open elsewhere on the server (the
 * other spec files' databases share its transaction ids) may hold the newest rows back for a run.
 */
async function exportUntilCovered() {
  for (let i = 0; i < 20; i++) {
    const marks = await watermarks(own.db);
    const { rows } = await own.db.query(
      `SELECT (SELECT count(*) FROM usage_records WHERE created_xid >= $1::bigint)
            + (SELECT count(*) FROM credit_ledger WHERE created_xid >= $2::bigint) AS n`,
      [marks.get('usage_records') ?? '0', marks.get('ledger_entries') ?? '0'],
    );
    if (Number(rows[0].n) === 0) return;
    await runExport();
  }
  throw new Error('rows stayed above the watermark');
}

/**
 * Valued lots in three currencies with different minor places, purchases, records, a void, and
 * corrections down and up of the first records: every dataset has rows.
 */
async function makeActivity(records: number) {
  const users = [];
  for (const [amount, currency] of [
    ['10.00', 'usd'],
    ['1500', 'jpy'],
    ['2.125', 'bhd'],
  ]) {
    const u = await f.newUser();
    const lot = await f.allocate(u.id, { credits: 1000, value: { amount, currency } });
    expect(lot.status, JSON.stringify(lot.body)).toBe(201);
    users.push(u);
  }
  // Purchases in two currencies of different places (cents, whole yen): the purchases dataset's rows and money.
  for (const [amount, currency] of [
    ['4.99', 'usd'],
    ['500', 'jpy'],
  ]) {
    const bought = await t.http
      .post('/api/purchases')
      .set(admin)
      .send({ userId: users[0].id, credits: 200, amount, currency, provider: 'stripe' });
    expect(bought.status, JSON.stringify(bought.body)).toBe(201);
  }
  const free = await f.newUser({ credits: [500, 7] });
  await t.http.post(`/api/credits/allocations/${free.allocationIds[1]}/void`).set(admin).send({ reason: 'test' });
  for (let i = 0; i < records; i++) {
    const res = await f.recordUsage(users[i % users.length], 3 + (i % 5));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    if (i < 2) {
      const fix = await t.http
        .post(`/api/usage/records/${res.body.id as string}/corrections`)
        .set(admin)
        .send({ correctionId: `fix-${i}`, reason: 'wrong token count', credits: i === 0 ? 1 : 9 });
      expect(fix.status, JSON.stringify(fix.body)).toBe(201);
    }
  }
}

// Each describe's timeout: a run starts DuckDB for every part, which on cores shared with other work
// takes tens of seconds; the assertions do not depend on time.
describe('an export read back with DuckDB', { timeout: 300_000 }, () => {
  it('equals the database row for row, and sum for sum in credits and in money per currency', async () => {
    await makeActivity(12);
    await runExport();
    await exportUntilCovered();
    const written = await own.db.query(`SELECT DISTINCT dataset FROM export_parts WHERE rows > 0 ORDER BY dataset`);
    expect(written.rows.map((r) => r.dataset)).toEqual([
      'allocations',
      'corrections',
      'ledger_entries',
      'purchases',
      'usage_records',
    ]);

    const records = (await own.db.query(`SELECT id::text, credits, user_id FROM usage_records ORDER BY id`)).rows;
    const exported = await readExported(dir, 'usage_records', 'id, credits, user_id');
    expect(exported.map((r) => [r.id, r.credits, r.user_id]).sort()).toEqual(
      records.map((r) => [r.id, r.credits, r.user_id]).sort(),
    );

    const ledger = (
      await own.db.query(
        `SELECT id::text, kind, amount AS credits, currency, value_minor::text FROM credit_ledger ORDER BY id`,
      )
    ).rows;
    const lines = await readExported(
      dir,
      'ledger_entries',
      'id::VARCHAR AS id, kind, credits, currency, value::VARCHAR AS value',
    );
    expect(lines).toHaveLength(ledger.length);
    const byId = new Map(lines.map((l) => [l.id, l]));
    for (const row of ledger) {
      const line = byId.get(row.id);
      expect(line, row.id).toMatchObject({ kind: row.kind, credits: row.credits, currency: row.currency });
      expect(line!.value === null ? null : minorOf(line!.value as string, row.currency)).toBe(row.value_minor);
    }

    // Sums: credits, and money per currency with the currency's places (DuckDB's decimal sum).
    const sums = await duckQuery(
      dir,
      `SELECT currency, sum(value)::VARCHAR AS value, sum(credits)::BIGINT AS credits
         FROM read_parquet('{dir}/ledger_entries/date=*/*.parquet') GROUP BY currency ORDER BY currency NULLS FIRST`,
    );
    const dbSums = (
      await own.db.query(
        `SELECT currency, sum(value_minor)::text AS minor, sum(amount)::bigint AS credits
           FROM credit_ledger GROUP BY currency ORDER BY currency NULLS FIRST`,
      )
    ).rows;
    expect(
      sums.map((s) => [
        s.currency,
        s.value === null ? null : minorOf(s.value as string, s.currency as string),
        String(s.credits),
      ]),
    ).toEqual(dbSums.map((s) => [s.currency, s.minor, String(s.credits)]));
    expect(dbSums.map((s) => s.currency)).toEqual(expect.arrayContaining(['usd', 'jpy', 'bhd']));

    const lots = (
      await own.db.query(`SELECT id::text, total_credits, value_minor::text, currency FROM credit_allocations`)
    ).rows;
    const exportedLots = await readExported(dir, 'allocations', 'id, total_credits, value::VARCHAR AS value, currency');
    expect(
      exportedLots
        .map((l) => [l.id, l.total_credits, l.value === null ? null : minorOf(l.value as string, l.currency as string)])
        .sort(),
    ).toEqual(lots.map((l) => [l.id, l.total_credits, l.value_minor]).sort());

    // Purchases row for row (credits, and the amount with its currency's places), and summed by currency.
    const purchases = (
      await own.db.query(`SELECT id::text, credits, amount::text, currency, status FROM purchases ORDER BY id`)
    ).rows;
    expect(purchases.map((p) => p.currency).sort()).toEqual(expect.arrayContaining(['jpy', 'usd']));
    const exportedPurchases = await readExported(
      dir,
      'purchases',
      'id, credits, amount::VARCHAR AS amount, currency, status',
    );
    expect(
      exportedPurchases
        .map((p) => [p.id, p.credits, minorOf(p.amount as string, p.currency as string), p.status])
        .sort(),
    ).toEqual(purchases.map((p) => [p.id, p.credits, minorOf(p.amount, p.currency), p.status]).sort());
    const purchaseSums = await duckQuery(
      dir,
      `SELECT currency, sum(amount)::VARCHAR AS amount, sum(credits)::BIGINT AS credits
         FROM read_parquet('{dir}/purchases/date=*/*.parquet') GROUP BY currency ORDER BY currency`,
    );
    const dbPurchaseSums = (
      await own.db.query(
        `SELECT currency, sum(amount)::text AS amount, sum(credits)::bigint AS credits
           FROM purchases GROUP BY currency ORDER BY currency`,
      )
    ).rows;
    expect(
      purchaseSums.map((p) => [p.currency, minorOf(p.amount as string, p.currency as string), String(p.credits)]),
    ).toEqual(dbPurchaseSums.map((p) => [p.currency, minorOf(p.amount, p.currency), String(p.credits)]));

    // Corrections, and the ledger entries that carry their credits and money, name each other.
    const corrections = (
      await own.db.query(
        `SELECT c.id::text, c.record_id::text, c.correction_id, c.previous_credits, c.credits, c.delta,
                (SELECT sum(l.amount)::int FROM credit_ledger l WHERE l.correction_id = c.id) AS moved
           FROM usage_corrections c ORDER BY c.id`,
      )
    ).rows;
    expect(corrections.map((c) => c.delta)).toEqual([-2, 5]);
    const exportedCorrections = await readExported(
      dir,
      'corrections',
      'id, record_id, correction_id, previous_credits, credits, delta',
    );
    expect(
      exportedCorrections
        .map((c) => [c.id, c.record_id, c.correction_id, c.previous_credits, c.credits, c.delta])
        .sort(),
    ).toEqual(
      corrections.map((c) => [c.id, c.record_id, c.correction_id, c.previous_credits, c.credits, c.delta]).sort(),
    );
    const moved = await duckQuery(
      dir,
      `SELECT c.correction_id, sum(l.credits)::INTEGER AS moved
         FROM read_parquet('{dir}/corrections/date=*/*.parquet') c
         JOIN read_parquet('{dir}/ledger_entries/date=*/*.parquet') l ON l.correction_id = c.id
        GROUP BY 1 ORDER BY 1`,
    );
    expect(moved.map((m) => [m.correction_id, m.moved])).toEqual(
      corrections.map((c) => [c.correction_id, c.moved]).sort(),
    );
    // A correction down gives credits back (+2 to the account); one up takes more (-5).
    expect(corrections.map((c) => c.moved)).toEqual([2, -5]);
    await expectEveryRowOnce(own.db, dir);
  });

  it('types its columns: integers, decimals, UTC timestamps', async () => {
    const types = await duckQuery(
      dir,
      `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('{dir}/ledger_entries/date=*/*.parquet'))`,
    );
    const type = Object.fromEntries(types.map((c) => [c.column_name, c.column_type]));
    expect(type).toMatchObject({
      id: 'BIGINT',
      credits: 'INTEGER',
      value_minor: 'BIGINT',
      value: 'DECIMAL(22,4)',
      created_at: 'TIMESTAMP WITH TIME ZONE',
    });
  });

  it('writes each day of rows to date=YYYY-MM-DD/<exportId>.parquet, with no temporary file left', async () => {
    // Records written on other days (as of a service that ran then): the folder is the UTC day of
    // each row's creation, 23:30 UTC and 00:30 at +02:00 both on the 2nd of January.
    const u = await f.newUser();
    await own.db.query(
      `INSERT INTO usage_records (user_id, timestamp, service, operation, credits, tokens, model_id, account_id)
       VALUES ($1, '2026-01-02 23:30:00+00', 'chat', 'completion', 1, 10, 'gpt-4o', (SELECT account_id FROM accounts WHERE user_id = $1::varchar)),
              ($1, '2026-01-03 00:30:00+02', 'chat', 'completion', 1, 10, 'gpt-4o', (SELECT account_id FROM accounts WHERE user_id = $1::varchar)),
              ($1, '2026-01-03 00:00:00+00', 'chat', 'completion', 1, 10, 'gpt-4o', (SELECT account_id FROM accounts WHERE user_id = $1::varchar))`,
      [u.id],
    );
    await exportUntilCovered();
    for (const { dataset, table, column } of [
      { dataset: 'usage_records', table: 'usage_records', column: 'timestamp' },
      { dataset: 'ledger_entries', table: 'credit_ledger', column: 'created_at' },
      { dataset: 'allocations', table: 'credit_allocations', column: 'allocated_at' },
      { dataset: 'purchases', table: 'purchases', column: 'created_at' },
      { dataset: 'corrections', table: 'usage_corrections', column: 'created_at' },
    ]) {
      const { rows } = await own.db.query<{ id: string; day: string }>(
        `SELECT id::text, to_char("${column}" AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day FROM ${table}`,
      );
      const exported = await duckQuery(
        dir,
        `SELECT id::VARCHAR AS id, date::VARCHAR AS day
           FROM read_parquet('{dir}/${dataset}/date=*/*.parquet', hive_partitioning = true, hive_types = {'date': VARCHAR})`,
      );
      expect(exported.map((r) => `${r.id as string} ${r.day as string}`).sort(), dataset).toEqual(
        rows.map((r) => `${r.id} ${r.day}`).sort(),
      );
    }
    const mine = await duckQuery(
      dir,
      `SELECT date::VARCHAR AS day, count(*)::INTEGER AS n
         FROM read_parquet('{dir}/usage_records/date=*/*.parquet', hive_partitioning = true, hive_types = {'date': VARCHAR})
        WHERE user_id = '${u.id}' GROUP BY 1 ORDER BY 1`,
    );
    expect(mine).toEqual([
      { day: '2026-01-02', n: 2 },
      { day: '2026-01-03', n: 1 },
    ]);
    const days = await readdir(path.join(dir, 'usage_records'));
    expect(days.every((d) => /^date=\d{4}-\d{2}-\d{2}$/.test(d))).toBe(true);
    const files = (await Promise.all(days.map((d) => readdir(path.join(dir, 'usage_records', d))))).flat();
    expect(files.length).toBeGreaterThan(0);
    expect(files.every((name) => /^[0-9a-f-]{36}-usage_records\.parquet$/.test(name))).toBe(true);
    // Nor any scratch folder: each part's is removed once its files are in place.
    expect(await readdir(path.join(dir, '.tmp')).catch(() => [])).toEqual([]);
  });
});

describe('a second run', { timeout: 300_000 }, () => {
  it('exports only the rows added since the first', async () => {
    const before = new Set((await own.db.query(`SELECT id::text FROM usage_records`)).rows.map((r) => r.id as string));
    const markBefore = (await watermarks(own.db)).get('usage_records');
    await makeActivity(5);
    const run = await runExport();
    const markAfter = (await watermarks(own.db)).get('usage_records');
    // Its rows are those of its range only, all of them new (a transaction still open elsewhere on the
    // server may hold a new row back for the next run: never in two runs, never lost).
    const inRange = (
      await own.db.query(
        `SELECT id::text FROM usage_records WHERE created_xid >= $1::bigint AND created_xid < $2::bigint`,
        [markBefore, markAfter],
      )
    ).rows.map((r) => r.id as string);
    const written = (await readExported(dir, 'usage_records', 'id, filename')).filter((r) =>
      String(r.filename).includes(run.id),
    );
    expect(written.map((r) => r.id).sort()).toEqual(inRange.sort());
    expect(inRange.length).toBeGreaterThan(0);
    expect(inRange.filter((id) => before.has(id))).toEqual([]);
    expect(run.datasets.find((d) => d.dataset === 'usage_records')?.rows).toBe(inRange.length);
    await expectEveryRowOnce(own.db, dir);
  });

  it('with nothing new writes nothing', async () => {
    await runExport();
    const run = await runExport();
    expect(run.datasets).toEqual([]);
    await expectEveryRowOnce(own.db, dir);
  });

  it('lists runs newest first for supervisors, and audits the manual ones', async () => {
    const list = await t.http.get('/api/exports?limit=2').set(supervisor).expect(200);
    expect(list.body.items).toHaveLength(2);
    expect(list.body.nextCursor).toEqual(expect.any(String));
    const next = await t.http.get(`/api/exports?limit=2&cursor=${list.body.nextCursor}`).set(supervisor).expect(200);
    expect(next.body.items.map((r: { id: string }) => r.id)).not.toContain(list.body.items[0].id);
    // Admins read them too, each run as {id, status, …, datasets: [{dataset, rows, files}], lastError}.
    const byAdmin = await t.http.get('/api/exports?limit=1').set(admin).expect(200);
    expect(Object.keys(byAdmin.body.items[0]).sort()).toEqual(
      ['createdBy', 'datasets', 'finishedAt', 'id', 'lastError', 'startedAt', 'status', 'trigger'].sort(),
    );
    const firstRun = (await t.http.get('/api/exports?limit=100').set(admin).expect(200)).body.items.at(-1);
    expect(firstRun).toMatchObject({
      status: 'completed',
      trigger: 'manual',
      createdBy: 'exports-admin',
      startedAt: expect.any(String),
      finishedAt: expect.any(String),
      lastError: null,
    });
    expect(firstRun.datasets).toEqual(
      expect.arrayContaining([{ dataset: 'usage_records', rows: expect.any(Number), files: expect.any(Number) }]),
    );
    const user = bearer(tokenFor('user', 'exports-user'));
    await t.http.get('/api/exports').set(user).expect(403);
    // Each manual run is audited, over the audit API.
    const runs = (await t.http.get('/api/exports?limit=100').set(admin).expect(200)).body.items as { id: string }[];
    const audit = await t.http.get('/api/audit?action=export.run&limit=100').set(admin).expect(200);
    expect(audit.body.items.map((e: { target: { id: string } }) => e.target.id).sort()).toEqual(
      runs.map((r) => r.id).sort(),
    );
    await t.http.post('/api/exports/run').set(supervisor).send().expect(403);
    await t.http.post('/api/exports/run').set(user).send().expect(403);
  });
});

describe('several instances', { timeout: 300_000 }, () => {
  it('export one at a time, each row once: a second start while one runs is 409 EXPORT_RUNNING', async () => {
    const second = await startTestApp({ DATABASE_URL: own.url, EXPORT_DIR: dir, JOBS_ENABLED: 'false' });
    try {
      for (let round = 0; round < 3; round++) {
        await makeActivity(4);
        const answers = await Promise.all(
          [t, second, t, second].map((app) => app.http.post('/api/exports/run').set(admin).send()),
        );
        for (const a of answers) {
          if (a.status === 409) expect(a.body.code).toBe('EXPORT_RUNNING');
          else expect(a.status, JSON.stringify(a.body)).toBe(202);
        }
        const started = answers.filter((a) => a.status === 202).map((a) => a.body.id as string);
        expect(started.length).toBeGreaterThanOrEqual(1);
        const runs = await waitForRuns(t, started);
        expect(runs.every((r) => r.status === 'completed')).toBe(true);
      }
      await expectEveryRowOnce(own.db, dir);
    } finally {
      await second.close();
    }
  });
});

describe('the schedule', { timeout: 300_000 }, () => {
  it('starts a run once EXPORT_INTERVAL_MINUTES have passed since the last one started', async () => {
    const service = t.app.get(ExportsService);
    const count = async () => Number((await own.db.query(`SELECT count(*) FROM export_runs`)).rows[0].count);
    const runs = await count();
    await service.runIfDue();
    expect(await count()).toBe(runs);
    // The last run started more than the default 60 minutes ago: the next check runs one.
    await own.db.query(`UPDATE export_runs SET started_at = started_at - interval '61 minutes'`);
    await makeActivity(2);
    const audited = async () =>
      (await own.db.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'export.run'`)).rows[0].n as number;
    const auditedBefore = await audited();
    await service.runIfDue();
    expect(await count()).toBe(runs + 1);
    const last = (await own.db.query(`SELECT status, trigger FROM export_runs ORDER BY started_at DESC LIMIT 1`))
      .rows[0];
    expect(last).toEqual({ status: 'completed', trigger: 'schedule' });
    // Only manual runs are audited: the scheduled one is not.
    expect(await audited()).toBe(auditedBefore);
    await expectEveryRowOnce(own.db, dir);
  });

  it('without EXPORT_DIR a run is 409 EXPORTS_NOT_CONFIGURED', async () => {
    const off = await startTestApp({ DATABASE_URL: own.url, JOBS_ENABLED: 'false' });
    try {
      const res = await off.http.post('/api/exports/run').set(admin).send();
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('EXPORTS_NOT_CONFIGURED');
    } finally {
      await off.close();
    }
  });
});

/** "12.5000" of a currency with 2 places → "1250" (exact, by string). */
function minorOf(value: string, currency: string): string {
  const places = ({ jpy: 0, bhd: 3 } as Record<string, number>)[currency] ?? 2;
  const negative = value.startsWith('-');
  const [whole, fraction = ''] = value.replace('-', '').split('.');
  const kept = fraction.slice(0, places).padEnd(places, '0');
  expect(fraction.slice(places).replaceAll('0', ''), `${value} has more places than ${currency}`).toBe('');
  const minor = BigInt(whole + kept);
  return String(negative ? -minor : minor);
}
