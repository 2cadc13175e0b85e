import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp } from './support/app.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';
import { duckQuery, readExported } from './support/parquet.js';
import { waitForRuns, watermarks } from './support/parquet-checks.js';

/**
 * A usage record changes after its export: a correction moves its net credits and can open its review
 * again, a collect adds to its credits, a write-off drops its open shortfall. The exports carry each
 * change as a row (docs/exports.md "A usage record's changes"), so a warehouse computes every record's
 * net credits from the files alone, whichever run read the record. On a database of this file's own.
 */
let own: OwnDatabase;
let dir: string;
let t: TestApp;
let f: Fixtures;
const admin = bearer(tokenFor('admin', 'changes-admin'));

beforeAll(async () => {
  own = await ownDatabase('export_changes');
  dir = await mkdtemp(path.join(tmpdir(), 'accounting-export-changes-'));
  t = await startTestApp({ DATABASE_URL: own.url, EXPORT_DIR: dir, JOBS_ENABLED: 'false' });
  f = new Fixtures(t);
}, 180_000);
afterAll(async () => {
  await t?.close();
  await own?.drop();
  await rm(dir, { recursive: true, force: true });
});

/** Runs until every usage record, correction and resolution is below its dataset's watermark. */
async function exportAll() {
  for (let i = 0; i < 20; i++) {
    const res = await t.http.post('/api/exports/run').set(admin).send();
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const [run] = await waitForRuns(t, [res.body.id as string]);
    expect(run.status, JSON.stringify(run)).toBe('completed');
    const marks = await watermarks(own.db);
    const { rows } = await own.db.query(
      `SELECT (SELECT count(*) FROM usage_records WHERE created_xid >= $1::bigint)
            + (SELECT count(*) FROM usage_corrections WHERE created_xid >= $2::bigint)
            + (SELECT count(*) FROM usage_review_resolutions WHERE created_xid >= $3::bigint) AS n`,
      [marks.get('usage_records') ?? '0', marks.get('corrections') ?? '0', marks.get('review_resolutions') ?? '0'],
    );
    if (Number(rows[0].n) === 0) return;
  }
  throw new Error('rows stayed above the watermark');
}

async function correct(recordId: string, correctionId: string, credits: number) {
  const res = await t.http
    .post(`/api/usage/records/${recordId}/corrections`)
    .set(admin)
    .send({ correctionId, reason: 'recount', credits });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

async function resolve(recordId: string, action: 'collect' | 'write_off') {
  const res = await t.http.post(`/api/usage/records/${recordId}/resolve`).set(admin).send({ action });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

async function apiNets(user: FixtureUser): Promise<Record<string, number>> {
  const res = await t.http.get('/api/usage/records').set(user.auth).expect(200);
  return Object.fromEntries((res.body.items as { id: string; netCredits: number }[]).map((r) => [r.id, r.netCredits]));
}

/** Each record's net credits as a warehouse computes it from the three datasets' files. */
async function warehouseNets(): Promise<Record<string, number>> {
  const rows = await duckQuery(
    dir,
    `WITH changes AS (
       SELECT record_id, delta AS net_delta FROM read_parquet('{dir}/corrections/date=*/*.parquet')
       UNION ALL
       SELECT record_id, net_delta FROM read_parquet('{dir}/review_resolutions/date=*/*.parquet'))
     SELECT r.id, (r.credits + r.shortfall + COALESCE(sum(c.net_delta), 0))::INTEGER AS net
       FROM read_parquet('{dir}/usage_records/date=*/*.parquet') r LEFT JOIN changes c ON c.record_id = r.id
      GROUP BY r.id, r.credits, r.shortfall`,
  );
  return Object.fromEntries(rows.map((r) => [r.id as string, r.net as number]));
}

describe('a usage record changed after its export', { timeout: 300_000 }, () => {
  it('reaches the warehouse: the files give every record the net credits the API shows', async () => {
    const u = await f.newUser({ credits: 10 });
    const record = async (credits: number) => {
      const res = await f.recordUsage(u, credits);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.id as string;
    };
    const collected = await record(5); // 5 of the 10
    const writtenOff = await record(4); // the last 1 left, then nothing
    const untouched = await record(1);
    // Up beyond the balance: the rest is a shortfall, and each record's review opens.
    await correct(collected, 'up-1', 20);
    await correct(writtenOff, 'up-1', 9);
    await exportAll();

    // After the export: a collect (its credits grow), a correction down, one up that opens the review
    // again, and a write-off.
    await resolve(collected, 'collect');
    await correct(collected, 'down-2', 12);
    await correct(collected, 'up-3', 30);
    await resolve(writtenOff, 'write_off');
    await resolve(collected, 'write_off');
    // A record first read by a run after its collect: its file still holds the credits as written.
    const v = await f.newUser({ credits: 5 });
    const late = (await f.recordUsage(v, 5)).body.id as string;
    await correct(late, 'up-1', 12);
    await resolve(late, 'collect');
    await exportAll();

    const api = { ...(await apiNets(u)), ...(await apiNets(v)) };
    expect(Object.keys(api).sort()).toEqual([collected, writtenOff, untouched, late].sort());
    expect(api[late]).toBe(12);
    expect(await warehouseNets()).toEqual(api);
    // What the changes moved, so the equality above is not of untouched records alone.
    expect(api[untouched]).toBe(1);
    expect(api[collected]).not.toBe(5);
    const { rows } = await own.db.query(`SELECT credits FROM usage_records WHERE id = $1`, [collected]);
    expect(rows[0].credits).toBeGreaterThan(5);

    // Each record in one file, as written: a collect's credits are its resolution's, not the record's.
    const files = await readExported(dir, 'usage_records', 'id, credits');
    expect(files.filter((r) => r.id === collected)).toEqual([{ id: collected, credits: 5 }]);
    expect(files.filter((r) => r.id === late)).toEqual([{ id: late, credits: 5 }]);
    const resolutions = await readExported(dir, 'review_resolutions', 'record_id, resolution, collected, net_delta');
    expect(resolutions.filter((r) => r.record_id === writtenOff)).toEqual([
      { record_id: writtenOff, resolution: 'write_off', collected: 0, net_delta: expect.any(Number) },
    ]);
    expect(
      resolutions
        .filter((r) => r.record_id === collected)
        .map((r) => r.resolution)
        .sort(),
    ).toEqual(['collect', 'write_off']);
  });
});
