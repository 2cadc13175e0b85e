CREATE OR REPLACE FUNCTION public.usage_rollup_on_truncate()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
      BEGIN TRUNCATE usage_rollup_pending, usage_daily_users, usage_daily_totals; RETURN NULL; END $function$;
