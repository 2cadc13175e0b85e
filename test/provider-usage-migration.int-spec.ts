import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ProviderUsage1732000029000 } from '../migrations/1732000029000-provider-usage.js';
import { MIGRATIONS } from '../migrations/index.js';
import { MigrationDatabase } from './support/migration-database.js';

/**
 * Migration 1732000029000 gives every existing record a usage source: `estimated` for expired
 * sessions and aborts recorded without any count, `reported` for the rest; no termination, no
 * provider usage; and every figure of the rollups stays as it was.
 */
describe('the provider usage migration', () => {
  let own: MigrationDatabase;
  let db: pg.Pool;
  const migrate = (migrations: typeof MIGRATIONS) => own.migrate(migrations);

  beforeAll(async () => {
    own = await MigrationDatabase.create('accounting_pu');
    db = own.db;
  });
  afterAll(() => own?.close());

  it('marks what was estimated, keeps the rest reported, and changes no figure', async () => {
    const at = MIGRATIONS.indexOf(ProviderUsage1732000029000);
    expect(at).toBeGreaterThan(10);
    await migrate(MIGRATIONS.slice(0, at));

    await db.query(`INSERT INTO user_accounts (user_id) VALUES ('old-user')`);
    const insert = (service: string, credits: number, tokens: number | null, input: number | null) =>
      db.query(
        `INSERT INTO usage_records (user_id, service, operation, credits, model_id, tokens, input_tokens, output_tokens)
         VALUES ('old-user', $1, 'm', $2, 'm', $3, $4, $5)`,
        [service, credits, tokens, input, input === null ? null : 0],
      );
    await insert('chat', 5, 1000, null);
    await insert('image', 3, null, null);
    await insert('chat-streaming', 4, 800, 800);
    await insert('chat-streaming-expired', 6, 2000, null);
    await insert('chat-streaming-aborted', 0, 0, null); // an abort that named no count
    await insert('chat-streaming-aborted', 0, 0, 0); // an abort that split its (zero) counts
    await insert('chat-streaming-aborted', 2, 300, null);
    const totals = `SELECT service, sum(records)::int AS records, sum(credits)::int AS credits
                      FROM (SELECT service, records, credits FROM usage_daily_totals
                            UNION ALL SELECT service, records, credits FROM usage_rollup_pending) x
                     GROUP BY service ORDER BY service`;
    const before = (await db.query(totals)).rows;

    await migrate(MIGRATIONS);

    const { rows } = await db.query(
      `SELECT service, tokens, input_tokens, usage_source, termination, provider_usage
         FROM usage_records ORDER BY service, tokens, input_tokens NULLS FIRST`,
    );
    expect(
      rows.map((r) => [r.service, r.tokens, r.input_tokens, r.usage_source, r.termination, r.provider_usage]),
    ).toEqual([
      ['chat', 1000, null, 'reported', null, null],
      ['chat-streaming', 800, 800, 'reported', null, null],
      ['chat-streaming-aborted', 0, null, 'estimated', null, null],
      ['chat-streaming-aborted', 0, 0, 'reported', null, null],
      ['chat-streaming-aborted', 300, null, 'reported', null, null],
      ['chat-streaming-expired', 2000, null, 'estimated', null, null],
      ['image', null, null, 'reported', null, null],
    ]);
    expect((await db.query(totals)).rows).toEqual(before);
    // The database keeps the rules: provider usage only with source provider, known values only.
    await expect(
      db.query(`UPDATE usage_records SET usage_source = 'provider' WHERE service = 'image'`),
    ).rejects.toThrow(/usage_records_provider_usage_check/);
    await expect(db.query(`UPDATE usage_records SET termination = 'stopped'`)).rejects.toThrow(
      /usage_records_termination_check/,
    );

    // And it reverts cleanly (with every migration after it).
    const after = MIGRATIONS.length - MIGRATIONS.indexOf(ProviderUsage1732000029000);
    await own.revert(after);
    const cols = await db.query(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'usage_records' AND column_name = 'usage_source'`,
    );
    expect(cols.rows).toEqual([]);
  });
});
