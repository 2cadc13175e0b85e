CREATE OR REPLACE FUNCTION public.usage_records_erase(p_user_id character varying)
 RETURNS TABLE(erased_records text[], renamed_ids text[], renamed_operations text[])
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'public', 'pg_temp'
AS $function$
      -- An erasure's pass over the person's usage records and their corrections (docs/erasure.md). The
      -- service's role may update only a record's review state, so the words a record carries
      -- (`operation`, `metadata`, the resolution note) are rewritten here, as the tables' owner. The
      -- email and username come from the account itself, which must not be erased yet, and only that
      -- account's records are read: a caller can take a real person out, never rewrite chosen text.
      -- `operation` loses the email only (a label, not a name field); the rest lose the username too.
      -- Answers the records that were corrected or resolved (their audit entries are the person's too)
      -- and the records whose operation changed, with the old one (their daily totals move).
      DECLARE
        v_email_re text;
        v_name_re text;
      BEGIN
        SELECT erase_email_pattern(email), erase_name_pattern(username) INTO v_email_re, v_name_re
          FROM user_accounts WHERE user_id = p_user_id AND erased_at IS NULL;
        IF NOT FOUND OR (v_email_re IS NULL AND v_name_re IS NULL) THEN
          RETURN QUERY SELECT '{}'::text[], '{}'::text[], '{}'::text[];
          RETURN;
        END IF;
        RETURN QUERY
        WITH own AS (
          SELECT r.id, erase_text(r.operation, v_email_re, NULL) AS operation,
                 erase_json(r.metadata, v_email_re, v_name_re, false) AS metadata,
                 erase_text(r.resolution_note, v_email_re, v_name_re) AS resolution_note,
                 r.operation AS old_operation, r.metadata AS old_metadata, r.resolution_note AS old_note,
                 r.resolved_by IS NOT NULL AS resolved
            FROM usage_records r WHERE r.user_id = p_user_id),
        records_erased AS (
          UPDATE usage_records r
             SET operation = o.operation, metadata = o.metadata, resolution_note = o.resolution_note
            FROM own o
           WHERE r.id = o.id
             AND (o.operation IS DISTINCT FROM o.old_operation OR o.metadata IS DISTINCT FROM o.old_metadata
                  OR o.resolution_note IS DISTINCT FROM o.old_note)),
        fixes AS (
          SELECT c.id, c.record_id, erase_text(c.reason, v_email_re, v_name_re) AS reason, c.reason AS old_reason
            FROM usage_corrections c JOIN own o ON c.record_id = o.id),
        fixes_erased AS (
          UPDATE usage_corrections c SET reason = f.reason FROM fixes f
           WHERE c.id = f.id AND f.reason IS DISTINCT FROM f.old_reason),
        renamed AS (SELECT o.id, o.old_operation FROM own o WHERE o.operation IS DISTINCT FROM o.old_operation)
        SELECT ARRAY(SELECT o.id::text FROM own o WHERE o.resolved UNION SELECT f.record_id::text FROM fixes f),
               ARRAY(SELECT n.id::text FROM renamed n ORDER BY n.id),
               ARRAY(SELECT n.old_operation::text FROM renamed n ORDER BY n.id);
      END $function$;
