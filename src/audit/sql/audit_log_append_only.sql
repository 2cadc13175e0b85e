CREATE OR REPLACE FUNCTION public.audit_log_append_only()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
      -- The audit log is evidence: an entry, once committed, is never rewritten or removed, not even
      -- by the service itself (UPDATE, DELETE and TRUNCATE are refused). One exception: an erasure's
      -- UPDATE run by audit_log_erase(), which alone runs as the table's owner with the transaction-local
      -- setting it sets (the service's role can set the setting but is never the owner).
      BEGIN
        IF TG_OP = 'UPDATE'
           AND current_setting('accounting.audit_erasing', true) = 'on'
           AND current_user = (SELECT pg_get_userbyid(c.relowner) FROM pg_class c WHERE c.oid = TG_RELID) THEN
          RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
      END $function$;
