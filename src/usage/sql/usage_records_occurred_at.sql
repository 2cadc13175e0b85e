CREATE OR REPLACE FUNCTION public.usage_records_occurred_at()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
  -- A record written without its occurred_at happened when it was written (docs/usage.md "Late
  -- usage"): the service's own inserts always name it, so this runs only for a row inserted by hand
  -- (the trigger's WHEN clause), which then means what its "timestamp" says.
  BEGIN
    NEW.occurred_at := NEW."timestamp";
    RETURN NEW;
  END $function$;
