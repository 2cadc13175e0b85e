import { SchedulerRegistry } from '@nestjs/schedule';
import { afterEach, describe, expect, it } from 'vitest';

import { startTestApp, type TestApp } from './support/app.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';

/**
 * The runway alerts run every RUNWAY_ALERT_INTERVAL_SECONDS (default 3600; docs/configuration.md):
 * the interval the scheduler registered for the job is read back, nothing is waited for. On a
 * database of its own: with the jobs on, the app's other jobs run there too.
 */
describe('the runway alert job’s interval', () => {
  let own: OwnDatabase | undefined;
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    await own?.drop();
  });

  /** The registered interval of `runway-alerts` in ms, and whether a cron job of that name exists too. */
  async function scheduled(env: Record<string, string>) {
    own = await ownDatabase('runway_interval');
    t = await startTestApp({ DATABASE_URL: own.url, JOBS_ENABLED: 'true', ...env });
    const registry = t.app.get(SchedulerRegistry);
    const handle = registry.getInterval('runway-alerts') as NodeJS.Timeout & { _idleTimeout: number };
    return { ms: handle._idleTimeout, cron: registry.doesExist('cron', 'runway-alerts') };
  }

  it('is 3600 s by default', async () => {
    expect(await scheduled({})).toEqual({ ms: 3_600_000, cron: false });
  }, 60_000);

  it('follows RUNWAY_ALERT_INTERVAL_SECONDS', async () => {
    expect(await scheduled({ RUNWAY_ALERT_INTERVAL_SECONDS: '120' })).toEqual({ ms: 120_000, cron: false });
  }, 60_000);
});
