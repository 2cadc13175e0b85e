import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One rollup rule instead of four copies (issue 32, items 5 and 6): the statement triggers of
 * usage_records all run usage_rollup_delta() (src/usage/sql/usage_rollup_delta.sql) with the rows
 * they changed, named `changed_rows` in each, and their sign as the trigger's argument. An update
 * has two triggers (its old rows -1, its new rows +1), since a trigger function reads one transition
 * table under one name. The function appends one delta per changed row instead of grouping them:
 * the compaction groups them anyway, and for the metered debit's single record the hash aggregate
 * cost about 40 % of the trigger. Written by hand, not by `npm run migration:functions`: the triggers
 * must move to the new function before the old ones can be dropped. Function texts as PostgreSQL
 * prints them (test/sql-functions.int-spec.ts).
 */
export class OneUsageRollupFunction1732000026000 implements MigrationInterface {
  name = 'OneUsageRollupFunction1732000026000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE OR REPLACE FUNCTION public.usage_rollup_delta()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
  -- The one rule of the usage rollups: what a change of usage_records adds to (or takes from) the daily
  -- rollups, appended to usage_rollup_pending as signed deltas that usage_rollup_compact() folds in.
  -- Every statement trigger that changes records runs it with the rows it changed as \`changed_rows\`
  -- and their sign as its argument: inserted rows +1, deleted rows -1, an update's old rows -1 and
  -- its new rows +1 (two triggers). A record counts on its UTC day, under its model, else (chat
  -- records) its operation, else ''; a single token count is input tokens. One delta per row, not
  -- grouped here: the compaction groups them, and a single record's statement (the metered debit)
  -- would pay for a hash aggregate of one row.
  DECLARE
    v_sign integer := TG_ARGV[0]::integer;
  BEGIN
    INSERT INTO usage_rollup_pending (day, user_id, service, model_key, records, credits, provider_cost,
                                      input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens)
    SELECT ("timestamp" AT TIME ZONE 'UTC')::date, user_id, service,
           COALESCE(model_id, CASE WHEN service IN ('chat', 'chat-streaming') THEN operation END, ''),
           v_sign, v_sign * credits, v_sign * provider_cost,
           v_sign * COALESCE(input_tokens, tokens, 0), v_sign * COALESCE(output_tokens, 0),
           v_sign * COALESCE(cache_read_tokens, 0), v_sign * COALESCE(cache_write_tokens, 0),
           v_sign * COALESCE(reasoning_tokens, 0)
      FROM changed_rows;
    RETURN NULL;
  END $function$`);
    await q.query(`DROP TRIGGER usage_rollup_insert ON usage_records`);
    await q.query(`DROP TRIGGER usage_rollup_delete ON usage_records`);
    await q.query(`DROP TRIGGER usage_rollup_update ON usage_records`);
    await q.query(`
      CREATE TRIGGER usage_rollup_insert AFTER INSERT ON usage_records
      REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_delta('1')`);
    await q.query(`
      CREATE TRIGGER usage_rollup_delete AFTER DELETE ON usage_records
      REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_delta('-1')`);
    await q.query(`
      CREATE TRIGGER usage_rollup_update_old AFTER UPDATE ON usage_records
      REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_delta('-1')`);
    await q.query(`
      CREATE TRIGGER usage_rollup_update_new AFTER UPDATE ON usage_records
      REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_delta('1')`);
    await q.query(`DROP FUNCTION public.usage_rollup_on_insert()`);
    await q.query(`DROP FUNCTION public.usage_rollup_on_delete()`);
    await q.query(`DROP FUNCTION public.usage_rollup_on_update()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE OR REPLACE FUNCTION public.usage_rollup_on_insert()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
      BEGIN 
  INSERT INTO usage_rollup_pending (day, user_id, service, model_key, records, credits, provider_cost,
                                    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens)
  SELECT ("timestamp" AT TIME ZONE 'UTC')::date, user_id, service, COALESCE(model_id, CASE WHEN service IN ('chat', 'chat-streaming') THEN operation END, ''),
         count(*), sum(credits), sum(provider_cost),
         COALESCE(sum(COALESCE(input_tokens, tokens)), 0), COALESCE(sum(output_tokens), 0),
         COALESCE(sum(cache_read_tokens), 0), COALESCE(sum(cache_write_tokens), 0), COALESCE(sum(reasoning_tokens), 0)
    FROM new_rows
   GROUP BY 1, 2, 3, 4; RETURN NULL; END $function$`);
    await q.query(`CREATE OR REPLACE FUNCTION public.usage_rollup_on_delete()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
      BEGIN 
  INSERT INTO usage_rollup_pending (day, user_id, service, model_key, records, credits, provider_cost,
                                    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens)
  SELECT ("timestamp" AT TIME ZONE 'UTC')::date, user_id, service, COALESCE(model_id, CASE WHEN service IN ('chat', 'chat-streaming') THEN operation END, ''),
         -count(*), -sum(credits), -sum(provider_cost),
         -COALESCE(sum(COALESCE(input_tokens, tokens)), 0), -COALESCE(sum(output_tokens), 0),
         -COALESCE(sum(cache_read_tokens), 0), -COALESCE(sum(cache_write_tokens), 0), -COALESCE(sum(reasoning_tokens), 0)
    FROM old_rows
   GROUP BY 1, 2, 3, 4; RETURN NULL; END $function$`);
    await q.query(`CREATE OR REPLACE FUNCTION public.usage_rollup_on_update()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
      BEGIN 
  INSERT INTO usage_rollup_pending (day, user_id, service, model_key, records, credits, provider_cost,
                                    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens)
  SELECT ("timestamp" AT TIME ZONE 'UTC')::date, user_id, service, COALESCE(model_id, CASE WHEN service IN ('chat', 'chat-streaming') THEN operation END, ''),
         -count(*), -sum(credits), -sum(provider_cost),
         -COALESCE(sum(COALESCE(input_tokens, tokens)), 0), -COALESCE(sum(output_tokens), 0),
         -COALESCE(sum(cache_read_tokens), 0), -COALESCE(sum(cache_write_tokens), 0), -COALESCE(sum(reasoning_tokens), 0)
    FROM old_rows
   GROUP BY 1, 2, 3, 4; 
  INSERT INTO usage_rollup_pending (day, user_id, service, model_key, records, credits, provider_cost,
                                    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens)
  SELECT ("timestamp" AT TIME ZONE 'UTC')::date, user_id, service, COALESCE(model_id, CASE WHEN service IN ('chat', 'chat-streaming') THEN operation END, ''),
         count(*), sum(credits), sum(provider_cost),
         COALESCE(sum(COALESCE(input_tokens, tokens)), 0), COALESCE(sum(output_tokens), 0),
         COALESCE(sum(cache_read_tokens), 0), COALESCE(sum(cache_write_tokens), 0), COALESCE(sum(reasoning_tokens), 0)
    FROM new_rows
   GROUP BY 1, 2, 3, 4; RETURN NULL; END $function$`);
    await q.query(`DROP TRIGGER usage_rollup_update_new ON usage_records`);
    await q.query(`DROP TRIGGER usage_rollup_update_old ON usage_records`);
    await q.query(`DROP TRIGGER usage_rollup_delete ON usage_records`);
    await q.query(`DROP TRIGGER usage_rollup_insert ON usage_records`);
    await q.query(`
      CREATE TRIGGER usage_rollup_insert AFTER INSERT ON usage_records
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_on_insert()`);
    await q.query(`
      CREATE TRIGGER usage_rollup_delete AFTER DELETE ON usage_records
      REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_on_delete()`);
    await q.query(`
      CREATE TRIGGER usage_rollup_update AFTER UPDATE ON usage_records
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_on_update()`);
    await q.query(`DROP FUNCTION public.usage_rollup_delta()`);
  }
}
