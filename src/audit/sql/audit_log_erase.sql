CREATE OR REPLACE FUNCTION public.audit_log_erase(p_user_id character varying, p_target_types character varying[], p_target_ids character varying[])
 RETURNS integer
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'public'
AS $function$
      -- An erasure's pass over the audit log (docs/erasure.md): the one way an entry is ever rewritten.
      -- It runs as the log's owner and takes the email and username from the account itself, which must
      -- not be erased yet: a caller can only take a real person out, never rewrite chosen text. Only the
      -- person's own entries are read, each through an index: those they acted in, those whose target
      -- is their account, and those whose target is one of their rows the caller names (their keys,
      -- allocations, transfers, records, prices, purchases, portal sessions). A budget's id is its
      -- account's own, not unique across accounts, and a deleted budget has no row to name: the entries
      -- about budgets (through the target index: few, next to the log) are the person's where they name
      -- their account (`userId`), so another account's budget of the same id stays as it is. In them
      -- erase_json() replaces the email as a whole address, and the username as a whole word only under
      -- a name key, with `[erased]`; the rest of each string stays.
      DECLARE
        v_email_re text;
        v_name_re text;
        v_count integer;
      BEGIN
        SELECT erase_email_pattern(email), erase_name_pattern(username) INTO v_email_re, v_name_re
          FROM user_accounts WHERE user_id = p_user_id AND erased_at IS NULL FOR UPDATE;
        IF NOT FOUND OR (v_email_re IS NULL AND v_name_re IS NULL) THEN
          RETURN 0;
        END IF;
        PERFORM set_config('accounting.audit_erasing', 'on', true);
        WITH own AS (
          SELECT id FROM audit_log WHERE actor_user_id = p_user_id
          UNION
          SELECT id FROM audit_log WHERE target_type = 'user' AND target_id = p_user_id
          UNION
          -- Both arrays as index conditions (a join on unnest() may hash the whole log when its
          -- statistics say one type fills it), then the exact pairs.
          SELECT a.id FROM audit_log a
           WHERE a.target_type = ANY (p_target_types) AND a.target_id = ANY (p_target_ids)
             AND (a.target_type, a.target_id) IN (SELECT * FROM unnest(p_target_types, p_target_ids))
          UNION
          SELECT a.id FROM audit_log a
           WHERE a.target_type = 'budget' AND COALESCE(a.after, a.before) ->> 'userId' = p_user_id
        ), erased AS (
          SELECT a.id, erase_json(a.before, v_email_re, v_name_re, false) AS before,
                 erase_json(a.after, v_email_re, v_name_re, false) AS after
            FROM audit_log a JOIN own USING (id)
        )
        UPDATE audit_log a SET before = e.before, after = e.after
          FROM erased e
         WHERE a.id = e.id AND (a.before IS DISTINCT FROM e.before OR a.after IS DISTINCT FROM e.after);
        GET DIAGNOSTICS v_count = ROW_COUNT;
        PERFORM set_config('accounting.audit_erasing', '', true);
        RETURN v_count;
      END $function$;
