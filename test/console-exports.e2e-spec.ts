import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, type TestApp, token, uniqueId } from './support/app.js';
import { chromiumAvailable, poll, ServedConsole, shot } from './support/console-browser.js';
import { readExported } from './support/parquet.js';

/** The console's Exports page in a real browser: an admin runs the Parquet export and reads the run. */
let served: ServedConsole;
let t: TestApp;
let dir: string;
const adminId = uniqueId('xadmin');
const supervisorId = uniqueId('xsuper');

describe.skipIf(!chromiumAvailable)('the Exports screen', () => {
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'accounting-console-exports-'));
    served = await ServedConsole.onOwnDatabase('console_exports', { EXPORT_DIR: dir, JOBS_ENABLED: 'false' });
    ({ t } = served);
    const admin = bearer(token({ sub: adminId, role: 'admin' }));
    const userId = uniqueId('xuser');
    await t.http.get('/api/users/me').set(admin).expect(200);
    const user = bearer(token({ sub: userId }));
    await t.http.get('/api/users/me').set(user).expect(200);
    await t.http.post('/api/credits/allocate').set(admin).send({ userId, credits: 300 }).expect(201);
    for (const credits of [4, 6, 9]) {
      await t.http
        .post('/api/usage/record')
        .set(user)
        .send({ service: 'chat', operation: 'completion', credits })
        .expect(201);
    }
  }, 120_000);
  afterAll(async () => {
    await served?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs an export and lists it with its rows by dataset', async () => {
    const { page, errors } = await served.open();
    await served.signIn(page, token({ sub: adminId, role: 'admin' }));
    await page.getByRole('navigation').getByRole('link', { name: 'Exports' }).click();
    await poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Exports');
    await page.getByRole('button', { name: 'Run export now' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Run export' }).click();
    const table = page.getByRole('table', { name: 'Export runs' });
    const row = table.getByRole('row').filter({ hasText: `manual by ${adminId}` });
    await poll(() => row.textContent()).toContain('completed');
    const text = (await row.textContent()) ?? '';
    // What the page says is what the files hold.
    const records = await readExported(dir, 'usage_records', 'id');
    expect(records).toHaveLength(3);
    expect(text).toContain('usage_records 3');
    expect(text).toMatch(/ledger_entries \d+/);
    await shot(page, 'exports');
    expect(errors).toEqual([]);
  });

  it('shows supervisors the runs without the button', async () => {
    const { page } = await served.open();
    await served.signIn(page, token({ sub: supervisorId, role: 'supervisor' }));
    await page.getByRole('navigation').getByRole('link', { name: 'Exports' }).click();
    await poll(() => page.getByRole('table', { name: 'Export runs' }).textContent()).toContain('completed');
    expect(await page.getByRole('button', { name: 'Run export now' }).count()).toBe(0);
  });
});
