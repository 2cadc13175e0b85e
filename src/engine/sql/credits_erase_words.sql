CREATE OR REPLACE FUNCTION public.credits_erase_words(p_account_id bigint, p_email_re text, p_name_re text)
 RETURNS TABLE(target_type text, target_id text)
 LANGUAGE plpgsql
AS $function$
      -- An erasure's pass over the credit tables' words (docs/erasure.md): the notes and void reasons of
      -- the account's allocations, the reasons of its transfers, in or out, the scope ids of its budgets
      -- and the scopes its holds named, through erase_text() / erase_json(). A lot a transfer out of it
      -- opened in another account is that account's row and keeps the reason copied onto it. A budget
      -- whose scope id, rewritten, would equal another budget's of the account and kind takes
      -- ` #<its row id>` after it (one budget per scope and account). No amount, date or lot changes, so
      -- no ledger line is written: the books stay as they are. Answers every allocation and transfer of
      -- the account (the audit pass reads the entries about them), each found through an index on the
      -- account.
      DECLARE
        b record;
        v_scope text;
        v_suffix text;
        v_n integer;
      BEGIN
        UPDATE credit_allocations a
           SET notes = erase_text(a.notes, p_email_re, p_name_re),
               void_reason = erase_text(a.void_reason, p_email_re, p_name_re)
         WHERE a.account_id = p_account_id
           AND (a.notes IS NOT NULL OR a.void_reason IS NOT NULL)
           AND (erase_text(a.notes, p_email_re, p_name_re) IS DISTINCT FROM a.notes
                OR erase_text(a.void_reason, p_email_re, p_name_re) IS DISTINCT FROM a.void_reason);
        UPDATE credit_transfers t SET reason = erase_text(t.reason, p_email_re, p_name_re)
         WHERE (t.from_account_id = p_account_id OR t.to_account_id = p_account_id)
           AND t.reason IS NOT NULL AND erase_text(t.reason, p_email_re, p_name_re) IS DISTINCT FROM t.reason;
        FOR b IN SELECT g.id, g.scope_kind, erase_text(g.scope_id, p_email_re, p_name_re) AS scope_id
                   FROM credit_budgets g
                  WHERE g.account_id = p_account_id
                    AND erase_text(g.scope_id, p_email_re, p_name_re) IS DISTINCT FROM g.scope_id
                  ORDER BY g.id FOR UPDATE LOOP
          v_scope := left(b.scope_id, 200);
          v_n := 0;
          WHILE EXISTS (SELECT 1 FROM credit_budgets g
                         WHERE g.account_id = p_account_id AND g.scope_kind = b.scope_kind
                           AND g.scope_id = v_scope AND g.id <> b.id) LOOP
            v_n := v_n + 1;
            v_suffix := ' #' || b.id || CASE WHEN v_n > 1 THEN '.' || v_n ELSE '' END;
            v_scope := left(b.scope_id, 200 - length(v_suffix)) || v_suffix;
          END LOOP;
          UPDATE credit_budgets g SET scope_id = v_scope WHERE g.id = b.id;
        END LOOP;
        UPDATE credit_holds h SET scopes = erase_json(h.scopes, p_email_re, p_name_re, true)
         WHERE h.account_id = p_account_id AND h.scopes IS NOT NULL
           AND erase_json(h.scopes, p_email_re, p_name_re, true) IS DISTINCT FROM h.scopes;
        RETURN QUERY
          SELECT 'allocation'::text, a.id::text FROM credit_allocations a WHERE a.account_id = p_account_id
          UNION ALL
          SELECT 'credit_transfer'::text, t.id::text FROM credit_transfers t
           WHERE t.from_account_id = p_account_id OR t.to_account_id = p_account_id;
      END $function$;
