CREATE OR REPLACE FUNCTION public.audit_log_erase(p_user_id character varying)
 RETURNS integer
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'public'
AS $function$
      -- An erasure's pass over the audit log (docs/erasure.md): the one way an entry is ever rewritten.
      -- It runs as the log's owner and takes the email and username from the account itself, which must
      -- not be erased yet: a caller can only take a real person out, never rewrite chosen text. Every
      -- string of an entry's before/after equal to the username or holding the email becomes null.
      DECLARE
        v_email text;
        v_username text;
        v_count integer;
      BEGIN
        SELECT email, username INTO v_email, v_username
          FROM user_accounts WHERE user_id = p_user_id AND erased_at IS NULL FOR UPDATE;
        IF NOT FOUND OR (v_email IS NULL AND v_username IS NULL) THEN
          RETURN 0;
        END IF;
        PERFORM set_config('accounting.audit_erasing', 'on', true);
        UPDATE audit_log
           SET before = json_erase(before, v_email, v_username),
               after = json_erase(after, v_email, v_username)
         WHERE json_mentions(before, v_email, v_username) OR json_mentions(after, v_email, v_username);
        GET DIAGNOSTICS v_count = ROW_COUNT;
        PERFORM set_config('accounting.audit_erasing', '', true);
        RETURN v_count;
      END $function$;
