import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CreditCaps1732000060000 } from '../migrations/1732000060000-credit-caps.js';
import { MIGRATIONS } from '../migrations/index.js';
import { MigrationDatabase } from './support/migration-database.js';

/**
 * Migration 1732000060000 moves the key budgets (api_keys) and the members' limits (org_members) to
 * credit_caps, and 1732000060200 drops the old columns: every limit, period and member's
 * limit_reached_period is kept, the engine decides by them, and down puts them back where they were.
 */
describe('the credit caps migration', () => {
  let own: MigrationDatabase;
  let db: pg.Pool;
  const migrate = (migrations: typeof MIGRATIONS) => own.migrate(migrations);
  const revert = (times: number) => own.revert(times);

  beforeAll(async () => {
    own = await MigrationDatabase.create('accounting_caps');
    db = own.db;
  });
  afterAll(() => own?.close());

  const caps = async () =>
    (
      await db.query(
        `SELECT c.subject_kind, c.subject_id, a.org_id, c.credit_limit::int AS credit_limit, c.period,
                to_char(c.limit_reached_period, 'YYYY-MM-DD') AS reached, c.owner_id
           FROM credit_caps c LEFT JOIN accounts a ON a.account_id = c.account_id
          ORDER BY c.subject_kind, c.subject_id`,
      )
    ).rows;
  const columns = async (table: string) =>
    (
      await db.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns
          WHERE table_name = $1 AND column_name IN ('credit_limit', 'limit_period', 'spend_limit',
                                                    'spend_limit_period', 'limit_reached_period')
          ORDER BY column_name`,
        [table],
      )
    ).rows.map((r) => r.column_name);
  const take = async (orgId: string, member: string, credits: number, key: string | null) =>
    (
      await db.query<{ out_status: string }>(
        // the engine as the last migration leaves it: entered by the organisation's account id
        `SELECT out_status FROM credits_take_events('test', $4, NULL, '{}',
                                                    ARRAY[(SELECT account_id FROM accounts WHERE org_id = $1)],
                                                    ARRAY[$3::int], ARRAY[NULL::uuid], ARRAY[$2::varchar])`,
        [orgId, member, credits, key],
      )
    ).rows[0].out_status;

  it('moves every limit to credit_caps, keeps deciding by them, and goes down and up again', async () => {
    const before = MIGRATIONS.slice(0, MIGRATIONS.indexOf(CreditCaps1732000060000));
    await migrate(before);
    await db.query(`INSERT INTO user_accounts (user_id) VALUES ('capped'), ('reached'), ('free'), ('keyholder')`);
    await db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ('acme', 'Acme', 'admin')`);
    // The capped member reached its weekly limit this week (the week the takes below reach it in again,
    // so the period they record is the one seeded, whatever day the test runs).
    const week = (
      await db.query<{ start: string }>(
        `SELECT to_char(date_trunc('week', now() AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS start`,
      )
    ).rows[0].start;
    await db.query(
      `INSERT INTO org_members (org_id, user_id, role, spend_limit, spend_limit_period, limit_reached_period)
       VALUES ('acme', 'capped', 'member', 10, 'week', $1),
              ('acme', 'reached', 'member', NULL, NULL, '2026-11-01'),
              ('acme', 'free', 'member', NULL, NULL, NULL),
              ('acme', 'keyholder', 'member', NULL, NULL, NULL)`,
      [week],
    );
    const { rows: keys } = await db.query<{ id: string; name: string }>(
      `INSERT INTO api_keys (user_id, name, key_hash, prefix, credit_limit, limit_period, org_id)
       VALUES ('keyholder', 'budget', sha256('a'::bytea), 'ak_a', 7, 'total', 'acme'),
              ('keyholder', 'plain', sha256('b'::bytea), 'ak_b', NULL, NULL, 'acme')
       RETURNING id, name`,
    );
    const budget = keys.find((k) => k.name === 'budget')!.id;
    await db.query(
      `SELECT 1 FROM credits_grant('acme', 100, 'admin', now() + interval '1 day', NULL, 'manual', NULL, NULL, NULL,
                                   false, 'org')`,
    );

    await migrate(MIGRATIONS);
    expect(await caps()).toEqual([
      {
        subject_kind: 'key',
        subject_id: budget,
        org_id: null,
        credit_limit: 7,
        period: 'total',
        reached: null,
        owner_id: 'keyholder',
      },
      {
        subject_kind: 'member',
        subject_id: 'capped',
        org_id: 'acme',
        credit_limit: 10,
        period: 'week',
        reached: week,
        owner_id: null,
      },
      {
        subject_kind: 'member',
        subject_id: 'reached',
        org_id: 'acme',
        credit_limit: null,
        period: null,
        reached: '2026-11-01',
        owner_id: null,
      },
    ]);
    expect(await columns('api_keys')).toEqual([]);
    expect(await columns('org_members')).toEqual([]);
    // The engine decides by the moved limits: the member's 10, the key's 7.
    expect(await take('acme', 'capped', 11, null)).toBe('member_limit');
    expect(await take('acme', 'capped', 10, null)).toBe('ok');
    expect(await take('acme', 'keyholder', 8, budget)).toBe('key_limit');
    expect(await take('acme', 'keyholder', 7, budget)).toBe('ok');
    expect(await take('acme', 'free', 20, null)).toBe('ok');

    // Down to before the caps (what came after, the drop, the functions, the table): the columns
    // come back with their values.
    await revert(MIGRATIONS.length - MIGRATIONS.indexOf(CreditCaps1732000060000));
    expect((await db.query(`SELECT to_regclass('credit_caps') AS t`)).rows[0].t).toBeNull();
    const { rows: members } = await db.query(
      `SELECT user_id, spend_limit::int AS spend_limit, spend_limit_period,
              to_char(limit_reached_period, 'YYYY-MM-DD') AS reached
         FROM org_members WHERE org_id = 'acme' ORDER BY user_id`,
    );
    expect(members).toEqual([
      { user_id: 'capped', spend_limit: 10, spend_limit_period: 'week', reached: week },
      { user_id: 'free', spend_limit: null, spend_limit_period: null, reached: null },
      { user_id: 'keyholder', spend_limit: null, spend_limit_period: null, reached: null },
      { user_id: 'reached', spend_limit: null, spend_limit_period: null, reached: '2026-11-01' },
    ]);
    const { rows: budgets } = await db.query(
      `SELECT name, credit_limit, limit_period FROM api_keys WHERE user_id = 'keyholder' ORDER BY name`,
    );
    expect(budgets).toEqual([
      { name: 'budget', credit_limit: 7, limit_period: 'total' },
      { name: 'plain', credit_limit: null, limit_period: null },
    ]);
    await migrate(MIGRATIONS);
    expect((await caps()).map((c) => [c.subject_id, c.credit_limit])).toEqual([
      [budget, 7],
      ['capped', 10],
      ['reached', null],
    ]);
  });
});
