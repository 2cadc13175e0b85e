CREATE OR REPLACE FUNCTION public.accounts_for_org()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
  -- Every organisation has an account (kind org): opened with the org's row, in its transaction.
  BEGIN
    INSERT INTO accounts (kind, org_id) VALUES ('org', NEW.org_id) ON CONFLICT (org_id) DO NOTHING;
    RETURN NULL;
  END $function$;
