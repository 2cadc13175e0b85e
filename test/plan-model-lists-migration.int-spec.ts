import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PlanModelLists1732001010000 } from '../migrations/1732001010000-plan-model-lists.js';
import { MIGRATIONS } from '../migrations/index.js';
import { MigrationDatabase } from './support/migration-database.js';

/**
 * Migration 1732001010000 gives pricing its own copy of each account's live plan and its model list
 * (`pricing_plan_model_lists`), filled from the live subscriptions of users and organisations alike;
 * an ended subscription leaves no row. Down drops it and puts back the triggers `plans` and
 * `subscriptions` announced pricing changes with.
 */
describe('the plan model lists migration', () => {
  let own: MigrationDatabase;
  let db: pg.Pool;

  beforeAll(async () => {
    own = await MigrationDatabase.create('accounting_pml');
    db = own.db;
  });
  afterAll(() => own?.close());

  const lists = async () =>
    (
      await db.query(
        `SELECT a.kind, COALESCE(a.user_id, a.org_id) AS owner, l.plan_id, l.models
           FROM pricing_plan_model_lists l JOIN accounts a ON a.account_id = l.account_id
          ORDER BY a.kind, owner`,
      )
    ).rows;
  const triggers = async (table: string) =>
    (
      await db.query<{ tgname: string }>(
        `SELECT tgname FROM pg_trigger WHERE tgrelid = $1::regclass AND tgname LIKE '%pricing_changed%' ORDER BY 1`,
        [table],
      )
    ).rows.map((r) => r.tgname);

  it('copies every live subscription’s plan and list, and goes down and up again', async () => {
    const at = MIGRATIONS.indexOf(PlanModelLists1732001010000);
    await own.migrate(MIGRATIONS.slice(0, at));
    // A user and an organisation of the same id: each row belongs to the account that subscribed.
    await db.query(`INSERT INTO user_accounts (user_id) VALUES ('limited'), ('open'), ('ended'), ('acme')`);
    await db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ('acme', 'Acme', 'admin')`);
    await db.query(
      `INSERT INTO plans (id, name, credits, period, created_by, models)
       VALUES ('small', 'Small', 10, 'month', 'admin', ARRAY['anthropic.*', 'gpt-4o']),
              ('any', 'Any', 10, 'month', 'admin', NULL)`,
    );
    await db.query(
      `INSERT INTO subscriptions (user_id, org_id, plan_id, starts_at, next_grant_at, created_by, ended_at)
       VALUES ('limited', NULL, 'small', now(), now(), 'admin', NULL),
              ('open', NULL, 'any', now(), now(), 'admin', NULL),
              ('ended', NULL, 'small', now(), now(), 'admin', now()),
              (NULL, 'acme', 'small', now(), now(), 'admin', NULL)`,
    );

    await own.migrate(MIGRATIONS);
    expect(await lists()).toEqual([
      { kind: 'org', owner: 'acme', plan_id: 'small', models: ['anthropic.*', 'gpt-4o'] },
      { kind: 'user', owner: 'limited', plan_id: 'small', models: ['anthropic.*', 'gpt-4o'] },
      { kind: 'user', owner: 'open', plan_id: 'any', models: null },
    ]);
    expect(await triggers('pricing_plan_model_lists')).toEqual([
      'pricing_plan_model_lists_pricing_changed_delete',
      'pricing_plan_model_lists_pricing_changed_insert',
      'pricing_plan_model_lists_pricing_changed_update',
    ]);
    expect(await triggers('plans')).toEqual([]);
    expect(await triggers('subscriptions')).toEqual([]);

    await own.revert(MIGRATIONS.length - at);
    const table = await db.query(`SELECT to_regclass('pricing_plan_model_lists') AS t`);
    expect(table.rows[0].t).toBeNull();
    expect(await triggers('plans')).toEqual([
      'plans_pricing_changed_delete',
      'plans_pricing_changed_insert',
      'plans_pricing_changed_update',
    ]);
    expect(await triggers('subscriptions')).toEqual(['subscriptions_pricing_changed']);

    await own.migrate(MIGRATIONS);
    expect(await lists()).toHaveLength(3);
  });
});
