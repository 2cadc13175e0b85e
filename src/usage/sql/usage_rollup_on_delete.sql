CREATE OR REPLACE FUNCTION public.usage_rollup_on_delete()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
      BEGIN 
  INSERT INTO usage_rollup_pending (day, user_id, service, model_key, records, credits, provider_cost)
  SELECT ("timestamp" AT TIME ZONE 'UTC')::date, user_id, service, COALESCE(model_id, CASE WHEN service IN ('chat', 'chat-streaming') THEN operation END, ''),
         -count(*), -sum(credits), -sum(provider_cost)
    FROM old_rows
   GROUP BY 1, 2, 3, 4; RETURN NULL; END $function$;
