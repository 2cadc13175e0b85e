import { randomUUID } from 'node:crypto';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type OwnDatabase, ownDatabase } from './support/own-database.js';

/**
 * Which writes announce a pricing change (`NOTIFY pricing_changed`, docs/pricing.md "Cache"): every
 * write of the rules, account prices and subscriptions, but of `orgs` and `plans` only a model list set,
 * changed or deleted. Absence is proven without waiting: after each write a marker is notified on the
 * same channel from another transaction, and notifications arrive in commit order, so what the write
 * sent has arrived by the time the marker does. On a database of its own: the spec files running beside
 * it change prices, orgs and plans, which would be heard here.
 */
describe('pricing_changed notifications', () => {
  let own: OwnDatabase;
  let listener: pg.Client;
  let db: pg.Client;
  let heard: string[] = [];
  let markerArrived: (() => void) | null = null;

  beforeAll(async () => {
    own = await ownDatabase('pricing_notify');
    listener = new pg.Client({ connectionString: own.url });
    db = new pg.Client({ connectionString: own.url });
    await Promise.all([listener.connect(), db.connect()]);
    listener.on('notification', (n) => {
      if (n.payload?.startsWith('marker-')) markerArrived?.();
      else heard.push(n.payload ?? '');
    });
    await listener.query('LISTEN pricing_changed');
  });
  afterAll(async () => {
    await Promise.all([listener?.end(), db?.end()]);
    await own?.drop();
  });

  /** The tables `sql` made announce, once the marker after it has arrived. */
  async function announcedBy(sql: string, params: unknown[] = []): Promise<string[]> {
    heard = [];
    await db.query(sql, params);
    const arrived = new Promise<void>((resolve) => (markerArrived = resolve));
    await db.query(`SELECT pg_notify('pricing_changed', $1)`, [`marker-${randomUUID()}`]);
    await arrived;
    return heard;
  }

  it('an organisation announces its model list, not its creation or its name', async () => {
    const orgId = `notify-${randomUUID().slice(0, 8)}`;
    const insert = `INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'admin')`;
    expect(await announcedBy(insert, [orgId])).toEqual([]);
    expect(await announcedBy(`UPDATE orgs SET name = 'renamed' WHERE org_id = $1`, [orgId])).toEqual([]);
    const setModels = `UPDATE orgs SET models = ARRAY['anthropic.*'] WHERE org_id = $1`;
    expect(await announcedBy(setModels, [orgId])).toEqual(['orgs']);
    expect(await announcedBy(setModels, [orgId])).toEqual([]); // the same list again changes nothing
    expect(await announcedBy(`UPDATE orgs SET models = NULL WHERE org_id = $1`, [orgId])).toEqual(['orgs']);
    const withList = `notify-${randomUUID().slice(0, 8)}`;
    const insertWithList = `INSERT INTO orgs (org_id, name, created_by, models) VALUES ($1, $1, 'admin', ARRAY['gpt-*'])`;
    expect(await announcedBy(insertWithList, [withList])).toEqual(['orgs']);
  });

  it('a plan announces its model list, not its other columns', async () => {
    const planId = `notify-${randomUUID().slice(0, 8)}`;
    const insert = `INSERT INTO plans (id, name, credits, period, created_by) VALUES ($1, $1, 10, 'month', 'admin')`;
    expect(await announcedBy(insert, [planId])).toEqual([]);
    expect(await announcedBy(`UPDATE plans SET name = 'renamed' WHERE id = $1`, [planId])).toEqual([]);
    expect(await announcedBy(`UPDATE plans SET models = ARRAY['gpt-*'] WHERE id = $1`, [planId])).toEqual(['plans']);
    expect(await announcedBy(`DELETE FROM plans WHERE id = $1`, [planId])).toEqual(['plans']);
  });
});
