import { randomUUID } from 'node:crypto';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type OwnDatabase, ownDatabase } from './support/own-database.js';

/**
 * Which writes announce a pricing change (`NOTIFY pricing_changed`, docs/pricing.md "Cache"): every
 * write of the rules and account prices, but of `orgs` and `pricing_plan_model_lists` only a model list
 * set, changed or deleted; `plans` and `subscriptions`, which pricing does not read, never. Absence is proven without waiting: after each write a marker is notified on the
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

  it("an account's plan model list announces itself; plans and subscriptions do not", async () => {
    const planId = `notify-${randomUUID().slice(0, 8)}`;
    const insertPlan = `INSERT INTO plans (id, name, credits, period, created_by, models)
                        VALUES ($1, $1, 10, 'month', 'admin', ARRAY['gpt-*'])`;
    expect(await announcedBy(insertPlan, [planId])).toEqual([]);
    expect(await announcedBy(`UPDATE plans SET models = ARRAY['anthropic.*'] WHERE id = $1`, [planId])).toEqual([]);
    const orgId = `notify-${randomUUID().slice(0, 8)}`;
    await db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'admin')`, [orgId]);
    const subscribe = `INSERT INTO subscriptions (org_id, account_id, plan_id, starts_at, next_grant_at, created_by)
                       VALUES ($1, (SELECT account_id FROM accounts WHERE org_id = $1::varchar), $2, now(), now(), 'admin')`;
    expect(await announcedBy(subscribe, [orgId, planId])).toEqual([]);
    expect(await announcedBy(`UPDATE subscriptions SET ended_at = now() WHERE org_id = $1`, [orgId])).toEqual([]);
    const { rows } = await db.query(`SELECT account_id FROM accounts WHERE org_id = $1`, [orgId]);
    const account = rows[0].account_id as string;
    const table = 'pricing_plan_model_lists';
    const insert = `INSERT INTO ${table} (account_id, plan_id, models) VALUES ($1, $2, NULL)`;
    expect(await announcedBy(insert, [account, planId])).toEqual([]); // a plan without a list
    const setModels = `UPDATE ${table} SET models = ARRAY['gpt-*'] WHERE account_id = $1`;
    expect(await announcedBy(setModels, [account])).toEqual([table]);
    expect(await announcedBy(setModels, [account])).toEqual([]); // the same list again changes nothing
    expect(await announcedBy(`UPDATE ${table} SET plan_id = 'other' WHERE account_id = $1`, [account])).toEqual([]);
    expect(await announcedBy(`DELETE FROM ${table} WHERE account_id = $1`, [account])).toEqual([table]);
    const insertWithList = `INSERT INTO ${table} (account_id, plan_id, models) VALUES ($1, $2, ARRAY['gpt-*'])`;
    expect(await announcedBy(insertWithList, [account, planId])).toEqual([table]);
  });
});
