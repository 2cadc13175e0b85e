CREATE OR REPLACE FUNCTION public.credit_ledger_append_only()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
      BEGIN
        RAISE EXCEPTION 'credit_ledger is append-only (% refused)', TG_OP;
      END $function$;
