CREATE OR REPLACE FUNCTION public.credit_record_keys(p_account_ids bigint[], p_usage_records uuid[], p_sessions character varying[], p_api_key_ids uuid[])
 RETURNS TABLE(out_ord integer, out_api_key_id uuid)
 LANGUAGE plpgsql
AS $function$
  -- The key whose budget each usage record counted against (docs/money.md "Corrections"), record i of
  -- account p_account_ids[i]: the one its take named (a service principal may name the user's key
  -- without calling through it), its session's hold's (p_sessions[i]), else the record's own
  -- (p_api_key_ids[i]). One statement for many records (a re-rate's chunk); a correction of one record
  -- is an array of one. The record's lines by the record's index (OFFSET 0 keeps the ORDER BY … LIMIT
  -- out of them): in the account's id order the plan walked the account's whole ledger back for a
  -- record with none, a re-rate's record after record (docs/benchmarks.md "Re-rates").
  BEGIN
    RETURN QUERY
      SELECT e.ord::int,
             COALESCE((SELECT x.api_key_id
                         FROM (SELECT l.id, l.api_key_id FROM credit_ledger l
                                WHERE l.usage_record_id = e.record_id AND l.account_id = e.account_id
                                  AND l.kind IN ('debit', 'overdraft', 'release') AND l.api_key_id IS NOT NULL
                               OFFSET 0) x
                        ORDER BY x.id LIMIT 1),
                      CASE WHEN e.session_id IS NOT NULL
                           THEN (SELECT h.api_key_id FROM credit_holds h
                                  WHERE h.session_id = e.session_id AND h.account_id = e.account_id) END,
                      e.api_key_id)
        FROM unnest(p_account_ids, p_usage_records, p_sessions, p_api_key_ids)
               WITH ORDINALITY AS e(account_id, record_id, session_id, api_key_id, ord)
       ORDER BY e.ord;
  END $function$;
