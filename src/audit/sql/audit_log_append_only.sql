CREATE OR REPLACE FUNCTION public.audit_log_append_only()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
      -- The audit log is evidence: an entry, once committed, is never rewritten or removed, not even
      -- by the service itself (UPDATE, DELETE and TRUNCATE are refused).
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
      END $function$;
