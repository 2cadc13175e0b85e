import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';
import { waitForRuns } from './support/parquet-checks.js';

/**
 * Exported Parquet files are readable by their owner only (docs/exports.md "Files"): mode 0600 by
 * default, 0640 with EXPORT_FILE_MODE=0640, whatever the process's umask would give.
 */
const admin = bearer(tokenFor('admin', 'export-modes-admin'));
let own: OwnDatabase;
const dirs: string[] = [];

beforeAll(async () => {
  own = await ownDatabase('export_modes');
}, 180_000);
afterAll(async () => {
  await own?.drop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** Every file under `dir` (the scratch folder, if any, included), with its permission bits. */
async function modes(dir: string): Promise<{ file: string; mode: number }[]> {
  const found: { file: string; mode: number }[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    found.push({ file: path.relative(dir, file), mode: (await stat(file)).mode & 0o777 });
  }
  return found;
}

async function exportWith(env: Record<string, string>): Promise<{ file: string; mode: number }[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'accounting-export-modes-'));
  dirs.push(dir);
  let t: TestApp | undefined;
  try {
    t = await startTestApp({ DATABASE_URL: own.url, EXPORT_DIR: dir, JOBS_ENABLED: 'false', ...env });
    await new Fixtures(t).newUser({ credits: 10 });
    const res = await t.http.post('/api/exports/run').set(admin).send();
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const [run] = await waitForRuns(t, [res.body.id as string]);
    expect(run.status, JSON.stringify(run)).toBe('completed');
  } finally {
    await t?.close();
  }
  return modes(dir);
}

describe('exported files’ mode', () => {
  it('is 0600 by default and 0640 when EXPORT_FILE_MODE says so, never world-readable', async () => {
    const umask = process.umask();
    process.umask(0o022);
    try {
      const owner = await exportWith({});
      expect(owner.filter((f) => f.file.endsWith('.parquet')).length).toBeGreaterThan(0);
      expect(owner.filter((f) => f.mode !== 0o600)).toEqual([]);
      const group = await exportWith({ EXPORT_FILE_MODE: '0640' });
      expect(group.filter((f) => f.file.endsWith('.parquet')).length).toBeGreaterThan(0);
      expect(group.filter((f) => f.mode !== 0o640)).toEqual([]);
    } finally {
      process.umask(umask);
    }
  }, 120_000);
});
