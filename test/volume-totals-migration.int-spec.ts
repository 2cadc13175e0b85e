import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { VolumeTotalsChargedCredits1732006500000 } from '../migrations/1732006500000-volume-totals-charged-credits.js';
import { MIGRATIONS } from '../migrations/index.js';
import { MigrationDatabase } from './support/migration-database.js';

/**
 * Migration 1732006500000: a volume period total's `cost` becomes the credits its records were
 * charged. The take charged ceil(cost after) − ceil(cost before), so a total kept as its exact stepped
 * cost starts from ceil(cost), and the next record is charged on its own from there.
 */
describe('the volume totals migration', () => {
  let own: MigrationDatabase;
  let db: pg.Pool;
  const at = MIGRATIONS.indexOf(VolumeTotalsChargedCredits1732006500000);

  beforeAll(async () => {
    own = await MigrationDatabase.create('accounting_volume_totals');
    db = own.db;
  });
  afterAll(() => own?.close());

  it("rounds each total's exact cost up to the credits it charged, and the next record rounds alone", async () => {
    expect(at).toBeGreaterThan(10);
    await own.migrate(MIGRATIONS.slice(0, at));
    await db.query(`INSERT INTO user_accounts (user_id) VALUES ('v-user')`);
    const { rows } = await db.query<{ account_id: string }>(`SELECT account_id FROM accounts WHERE user_id = 'v-user'`);
    const account = rows[0].account_id;
    // 1,001 tokens at 1,000 then 50 %: 1,000.5 charged as 1,001; another model's 1,002 tokens: 1,001.0.
    await db.query(
      `INSERT INTO credit_volume_totals (account_id, model_id, period_start, period_end, tokens, base, cost)
       VALUES ($1, 'm-half', date_trunc('month', now(), 'UTC'), date_trunc('month', now(), 'UTC') + interval '1 month',
               1001, 1001, 1000.5),
              ($1, 'm-whole', date_trunc('month', now(), 'UTC'), date_trunc('month', now(), 'UTC') + interval '1 month',
               1002, 1002, 1001.0)`,
      [account],
    );

    await own.migrate(MIGRATIONS);
    const costs = await db.query(`SELECT model_id, cost::text FROM credit_volume_totals ORDER BY model_id`);
    expect(costs.rows).toEqual([
      { model_id: 'm-half', cost: '1001' },
      { model_id: 'm-whole', cost: '1001.0' },
    ]);
    // One token more at 50 %: 0.5 → 1, where the exact total (1,000.5 + 0.5 = 1,001.0) charged 0.
    const volume = {
      model: 'm-half',
      mode: 'graduated',
      period: 'month',
      steps: [
        [1000, '100.00'],
        [null, '50.00'],
      ],
      tokens: 1,
      base: '1',
      at: null,
      expiryDays: 30,
    };
    const price = await db.query(
      `SELECT out_amount, out_step, out_cost::text FROM credit_volume_price($1::bigint, $2::jsonb)`,
      [account, JSON.stringify(volume)],
    );
    expect(price.rows).toEqual([{ out_amount: 1, out_step: 1, out_cost: '1002' }]);
  }, 240_000);
});
