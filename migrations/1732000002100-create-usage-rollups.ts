import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The byModel key of a record: its model, or its operation for chat records without one; '' = none. */
const MODEL_KEY = `COALESCE(model_id, CASE WHEN service IN ('chat', 'chat-streaming') THEN operation END, '')`;

const deltas = (table: string, sign: '' | '-') => `
  INSERT INTO usage_rollup_pending (day, user_id, service, model_key, records, credits, provider_cost)
  SELECT ("timestamp" AT TIME ZONE 'UTC')::date, user_id, service, ${MODEL_KEY},
         ${sign}count(*), ${sign}sum(credits), ${sign}sum(provider_cost)
    FROM ${table}
   GROUP BY 1, 2, 3, 4;`;

/**
 * Daily rollups for system-wide statistics, so they never scan every record:
 *   usage_daily_users  (day, user)                 → byUser, userCount
 *   usage_daily_totals (day, service, model key)   → totals, byService, byDay, byModel, margins
 * Inserts (and any update/delete) of usage_records append signed deltas to usage_rollup_pending
 * through statement-level triggers: an append, so concurrent requests of different users never wait
 * on a shared rollup row. usage_rollup_compact() (run by a job every 30 s) folds the pending deltas
 * into the rollups in one transaction; readers add rollups + pending in one snapshot, so the
 * statistics are exact at every moment.
 */
export class CreateUsageRollups1732000002100 implements MigrationInterface {
  name = 'CreateUsageRollups1732000002100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE usage_rollup_pending (
        day           date         NOT NULL,
        user_id       varchar(50)  NOT NULL,
        service       varchar(50)  NOT NULL,
        model_key     varchar(100) NOT NULL,
        records       bigint       NOT NULL,
        credits       bigint       NOT NULL,
        provider_cost numeric
      )`);
    await q.query(`
      CREATE TABLE usage_daily_users (
        day     date        NOT NULL,
        user_id varchar(50) NOT NULL,
        records bigint      NOT NULL,
        credits bigint      NOT NULL,
        PRIMARY KEY (day, user_id)
      )`);
    await q.query(`
      CREATE TABLE usage_daily_totals (
        day           date         NOT NULL,
        service       varchar(50)  NOT NULL,
        model_key     varchar(100) NOT NULL,
        records       bigint       NOT NULL,
        credits       bigint       NOT NULL,
        provider_cost numeric,
        PRIMARY KEY (day, service, model_key)
      )`);

    await q.query(`
      CREATE FUNCTION usage_rollup_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN ${deltas('new_rows', '')} RETURN NULL; END $$`);
    await q.query(`
      CREATE FUNCTION usage_rollup_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN ${deltas('old_rows', '-')} RETURN NULL; END $$`);
    await q.query(`
      CREATE FUNCTION usage_rollup_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN ${deltas('old_rows', '-')} ${deltas('new_rows', '')} RETURN NULL; END $$`);
    await q.query(`
      CREATE FUNCTION usage_rollup_on_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN TRUNCATE usage_rollup_pending, usage_daily_users, usage_daily_totals; RETURN NULL; END $$`);
    await q.query(`
      CREATE TRIGGER usage_rollup_insert AFTER INSERT ON usage_records
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_on_insert()`);
    await q.query(`
      CREATE TRIGGER usage_rollup_delete AFTER DELETE ON usage_records
      REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_on_delete()`);
    await q.query(`
      CREATE TRIGGER usage_rollup_update AFTER UPDATE ON usage_records
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_on_update()`);
    await q.query(`
      CREATE TRIGGER usage_rollup_truncate AFTER TRUNCATE ON usage_records
      FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_on_truncate()`);

    // Folds the pending deltas into the rollups; returns how many delta rows it folded.
    await q.query(`
      CREATE FUNCTION usage_rollup_compact() RETURNS bigint LANGUAGE sql AS $$
        WITH moved AS (
          DELETE FROM usage_rollup_pending RETURNING *
        ), users AS (
          INSERT INTO usage_daily_users AS u (day, user_id, records, credits)
          SELECT day, user_id, sum(records), sum(credits) FROM moved GROUP BY day, user_id
          ON CONFLICT (day, user_id) DO UPDATE
            SET records = u.records + EXCLUDED.records, credits = u.credits + EXCLUDED.credits
          RETURNING 1
        ), totals AS (
          INSERT INTO usage_daily_totals AS t (day, service, model_key, records, credits, provider_cost)
          SELECT day, service, model_key, sum(records), sum(credits), sum(provider_cost) FROM moved
           GROUP BY day, service, model_key
          ON CONFLICT (day, service, model_key) DO UPDATE
            SET records = t.records + EXCLUDED.records, credits = t.credits + EXCLUDED.credits,
                provider_cost = CASE WHEN t.provider_cost IS NULL AND EXCLUDED.provider_cost IS NULL THEN NULL
                                     ELSE COALESCE(t.provider_cost, 0) + COALESCE(EXCLUDED.provider_cost, 0) END
          RETURNING 1
        )
        SELECT (SELECT count(*) FROM moved) + 0 * (SELECT count(*) FROM users) + 0 * (SELECT count(*) FROM totals)
      $$`);

    // Records that existed before this migration.
    await q.query(`INSERT INTO usage_rollup_pending (day, user_id, service, model_key, records, credits, provider_cost)
      SELECT ("timestamp" AT TIME ZONE 'UTC')::date, user_id, service, ${MODEL_KEY}, count(*), sum(credits), sum(provider_cost)
        FROM usage_records GROUP BY 1, 2, 3, 4`);
    await q.query(`SELECT usage_rollup_compact()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER usage_rollup_truncate ON usage_records`);
    await q.query(`DROP TRIGGER usage_rollup_update ON usage_records`);
    await q.query(`DROP TRIGGER usage_rollup_delete ON usage_records`);
    await q.query(`DROP TRIGGER usage_rollup_insert ON usage_records`);
    await q.query(`DROP FUNCTION usage_rollup_compact()`);
    await q.query(`DROP FUNCTION usage_rollup_on_truncate()`);
    await q.query(`DROP FUNCTION usage_rollup_on_update()`);
    await q.query(`DROP FUNCTION usage_rollup_on_delete()`);
    await q.query(`DROP FUNCTION usage_rollup_on_insert()`);
    await q.query(`DROP TABLE usage_daily_totals`);
    await q.query(`DROP TABLE usage_daily_users`);
    await q.query(`DROP TABLE usage_rollup_pending`);
  }
}
