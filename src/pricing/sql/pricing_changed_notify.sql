CREATE OR REPLACE FUNCTION public.pricing_changed_notify()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  -- Every instance caches what prices a write and what it may meter (docs/pricing.md "Cache"): a
  -- change of a table they are read from tells every instance at commit (one notification per
  -- transaction and table), so none goes on pricing with what was replaced until its TTL ends.
  PERFORM pg_notify('pricing_changed', TG_TABLE_NAME);
  RETURN NULL;
END
$function$;
