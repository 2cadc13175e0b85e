CREATE OR REPLACE FUNCTION public.credits_erase_words(p_account_id bigint, p_email_re text, p_name_re text)
 RETURNS TABLE(target_type text, target_id text)
 LANGUAGE plpgsql
AS $function$
      -- An erasure's pass over the credit tables' words (docs/erasure.md): the notes and void reasons of
      -- the account's allocations, the reasons of its transfers, in or out, and the notes of the lots a
      -- transfer out of it opened in the other account (credits_transfer() copies the reason there),
      -- through erase_text(). No amount, date or lot changes, so no lock is taken and no ledger line is
      -- written: the books stay as they are. Answers every allocation and transfer of the account (the
      -- audit pass reads the entries about them), each found through an index on the account.
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
        UPDATE credit_allocations a SET notes = erase_text(a.notes, p_email_re, p_name_re)
          FROM credit_transfers t JOIN credit_transfer_lots l ON l.transfer_id = t.id
         WHERE t.from_account_id = p_account_id AND a.id = l.to_allocation_id
           AND a.notes IS NOT NULL AND erase_text(a.notes, p_email_re, p_name_re) IS DISTINCT FROM a.notes;
        RETURN QUERY
          SELECT 'allocation'::text, a.id::text FROM credit_allocations a WHERE a.account_id = p_account_id
          UNION ALL
          SELECT 'credit_transfer'::text, t.id::text FROM credit_transfers t
           WHERE t.from_account_id = p_account_id OR t.to_account_id = p_account_id;
      END $function$;
