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
      -- Each loses the email and the username where they stand as whole words (erase_text(): each
      -- becomes `[erased]`, the rest stays): `operation`, the four budget scope ids (a project, tags, a
      -- run, a session a client may have named by the person), the resolution note; `metadata` the
      -- email anywhere and the username under its name keys (erase_json()).
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
          SELECT r.id, erase_text(r.operation, v_email_re, v_name_re) AS operation,
                 erase_json(r.metadata, v_email_re, v_name_re, false) AS metadata,
                 erase_text(r.resolution_note, v_email_re, v_name_re) AS resolution_note,
                 erase_text(r.scope_project, v_email_re, v_name_re) AS scope_project,
                 CASE WHEN r.scope_tags IS NOT NULL THEN
                   ARRAY(SELECT erase_text(g.tag, v_email_re, v_name_re)
                           FROM unnest(r.scope_tags) WITH ORDINALITY g(tag, ord) ORDER BY g.ord)::varchar(200)[]
                 END AS scope_tags,
                 erase_text(r.scope_run, v_email_re, v_name_re) AS scope_run,
                 erase_text(r.scope_session, v_email_re, v_name_re) AS scope_session,
                 r.operation AS old_operation, r.metadata AS old_metadata, r.resolution_note AS old_note,
                 r.scope_project AS old_project, r.scope_tags AS old_tags, r.scope_run AS old_run,
                 r.scope_session AS old_session,
                 r.resolved_by IS NOT NULL AS resolved
            FROM usage_records r WHERE r.user_id = p_user_id),
        records_erased AS (
          UPDATE usage_records r
             SET operation = o.operation, metadata = o.metadata, resolution_note = o.resolution_note,
                 scope_project = o.scope_project, scope_tags = o.scope_tags, scope_run = o.scope_run,
                 scope_session = o.scope_session
            FROM own o
           WHERE r.id = o.id
             AND (o.operation IS DISTINCT FROM o.old_operation OR o.metadata IS DISTINCT FROM o.old_metadata
                  OR o.resolution_note IS DISTINCT FROM o.old_note
                  OR o.scope_project IS DISTINCT FROM o.old_project OR o.scope_tags IS DISTINCT FROM o.old_tags
                  OR o.scope_run IS DISTINCT FROM o.old_run OR o.scope_session IS DISTINCT FROM o.old_session)),
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
