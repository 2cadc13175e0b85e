import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SubscriptionsService } from '../src/plans/subscriptions.service.js';
import { bearer, startTestApp, TEST_JWT_SECRET, type TestApp, uniqueId } from './support/app.js';
import { buildServer } from './support/build-server.js';
import { passTime } from './support/clock.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';
import { type ServiceProcess, spawnService } from './support/service-process.js';
import { until } from './support/until.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const adminToken = tokenFor('admin', 'plan-kill-admin');
const admin = bearer(adminToken);
const DAY = 86_400_000;

/**
 * The build in `outDir` with its renewal job run every `ms` instead of every 15 s: the job's first run
 * came 15 s after the process started, and this spec waited for it, its worker idle. The job's code
 * is the build's own; only the constant that schedules it is changed, in this spec's private copy.
 */
async function renewEvery(outDir: string, ms: number): Promise<void> {
  const job = path.join(outDir, 'src', 'plans', 'subscription-renewal.job.js');
  const source = await readFile(job, 'utf8');
  const scheduled = source.replace(/^const RENEWAL_INTERVAL_MS = 15_000;$/m, `const RENEWAL_INTERVAL_MS = ${ms};`);
  if (scheduled === source) throw new Error(`no RENEWAL_INTERVAL_MS = 15_000 in ${job}`);
  await writeFile(job, scheduled);
}

/**
 * A change scheduled for the period's end, applied by the renewal job of a process killed with
 * SIGKILL inside the change's transaction (docs/plans.md "Changing plans"): nothing of it commits,
 * and another instance then applies it exactly once. The process is caught mid-change by a row lock
 * this test holds on the account's plan model list, which the change writes after it has ended the
 * old subscription and started the new one.
 */
describe('kill -9 while a scheduled plan change is applied', () => {
  let own: OwnDatabase;
  let t: TestApp;
  let service: ServiceProcess | null = null;
  const users: string[] = [];
  const outDir = path.join(root, 'node_modules', '.cache', `e2e-plan-kill-build-${process.pid}`);

  beforeAll(async () => {
    own = await ownDatabase('plankill');
    t = await startTestApp({ DATABASE_URL: own.url, JOBS_ENABLED: 'false' });
    await buildServer(outDir);
    await renewEvery(outDir, 250);
  }, 180_000);
  afterAll(async () => {
    if (service && service.child.exitCode === null) service.child.kill('SIGKILL');
    await expectInvariants(t, users);
    await t.close();
    await own.drop();
    await rm(outDir, { recursive: true, force: true });
  });

  it('mid-change: nothing commits, another instance applies the change once', { timeout: 120_000 }, async () => {
    const f = new Fixtures(t, { users, prefix: 'pk', granter: adminToken });
    const plans = { free: uniqueId('pk-free').toLowerCase(), pro: uniqueId('pk-pro').toLowerCase() };
    for (const [name, credits] of [
      ['free', 100],
      ['pro', 5000],
    ] as const)
      await t.http.post('/api/plans').set(admin).send({ id: plans[name], name, credits, period: 'day' }).expect(201);
    const user = await f.newUser();
    const route = `/api/users/${user.id}/subscription`;
    await t.http.put(route).set(admin).send({ planId: plans.free }).expect(200);
    await t.http.put(route).set(admin).send({ planId: plans.pro, timing: 'period_end' }).expect(200);
    await passTime(t.db, user.id, DAY + 60_000);

    const lock = await t.db.connect();
    lock.on('error', () => undefined);
    try {
      await lock.query('BEGIN');
      await lock.query(
        `SELECT 1 FROM pricing_plan_model_lists WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) FOR UPDATE`,
        [user.id],
      );
      const lockPid = (await lock.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      service = spawnService(path.join(outDir, 'src', 'main.js'), root, {
        NODE_ENV: 'test',
        DATABASE_URL: own.url,
        DB_MIGRATIONS_RUN: 'false',
        JWT_ACCESS_SECRET: TEST_JWT_SECRET,
        WEBHOOK_SECRET_KEY: 'plan-kill-webhook-secret-0123456789abcdef',
        JOBS_ENABLED: 'true',
      });
      await service.port;
      // The renewal job (every 250 ms here, see renewEvery) takes the due change and waits on the lock,
      // its old subscription ended and the new one inserted in its open transaction.
      await until(
        'the renewal job waits inside the change',
        async () => {
          const { rows } = await t.db.query(`SELECT 1 FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))`, [
            lockPid,
          ]);
          return rows.length > 0;
        },
        60_000,
        50,
      );
      service.child.kill('SIGKILL');
      await t.db.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))`,
        [lockPid],
      );
      await lock.query('ROLLBACK');
    } finally {
      lock.release(true);
    }

    const { rows: left } = await t.db.query(
      `SELECT plan_id, ended_at IS NULL AS live, scheduled_plan_id FROM subscriptions WHERE user_id = $1`,
      [user.id],
    );
    expect(left).toEqual([{ plan_id: plans.free, live: true, scheduled_plan_id: plans.pro }]);
    const { rows: due } = await t.db.query(`SELECT id, account_id FROM subscriptions WHERE user_id = $1`, [user.id]);
    const subscriptions = t.app.get(SubscriptionsService);
    expect(await subscriptions.renewDue(due[0].id, due[0].account_id, new Date())).toBe(true);
    expect(await subscriptions.renewDue(due[0].id, due[0].account_id, new Date())).toBe(false);

    const { rows: subs } = await t.db.query(
      `SELECT plan_id, ended_at IS NULL AS live FROM subscriptions WHERE user_id = $1 ORDER BY created_at`,
      [user.id],
    );
    expect(subs).toEqual([
      { plan_id: plans.free, live: false },
      { plan_id: plans.pro, live: true },
    ]);
    const { rows: grants } = await t.db.query(
      `SELECT plan_id, total_credits FROM credit_allocations
        WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) AND source = 'plan' ORDER BY allocated_at`,
      [user.id],
    );
    expect(grants).toEqual([
      { plan_id: plans.free, total_credits: 100 },
      { plan_id: plans.pro, total_credits: 5000 },
    ]);
    const { rows: events } = await t.db.query(
      `SELECT data->>'toPlanId' AS to, data->>'timing' AS timing FROM events
        WHERE type = 'subscription.changed' AND data->>'userId' = $1 ORDER BY created_at`,
      [user.id],
    );
    expect(events).toEqual([
      { to: plans.free, timing: 'now' },
      { to: plans.pro, timing: 'period_end' },
    ]);
  });
});
