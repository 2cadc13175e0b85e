CREATE OR REPLACE FUNCTION public.credit_record_lots(p_account_ids bigint[], p_usage_records uuid[], p_sessions character varying[])
 RETURNS TABLE(out_ord integer, out_allocation_id uuid, out_paid bigint, out_paid_value bigint, out_live boolean, out_voided boolean, out_frozen boolean,
    out_currency character varying)
 LANGUAGE plpgsql
AS $function$
  -- Each usage record's part of the lots it was paid from (docs/money.md "Corrections", step 2),
  -- record i (out_ord) of account p_account_ids[i]: its debit, correction and release lines and the
  -- hold lines of its session p_sessions[i], summed per lot (credits and money), the lots it still
  -- has a part of; each record's lots the last taken first, with each lot's state (live: unexpired
  -- and not voided). One statement for many records (a re-rate's chunk); a correction of one record
  -- is an array of one.
  BEGIN
    RETURN QUERY
      SELECT e.ord::int, p.allocation_id, p.paid, p.paid_value, p.live, p.voided, p.frozen, p.currency
        FROM unnest(p_account_ids, p_usage_records, p_sessions) WITH ORDINALITY AS e(account_id, record_id, session_id, ord)
        CROSS JOIN LATERAL (
          SELECT l.allocation_id, (-SUM(l.amount))::bigint AS paid, (-SUM(l.value_minor))::bigint AS paid_value,
                 credit_allocation_live(a.expires_at) AND a.voided_at IS NULL AS live, a.voided_at IS NOT NULL AS voided,
                 a.frozen, a.currency, max(l.id) AS last
            FROM credit_ledger l JOIN credit_allocations a ON a.id = l.allocation_id
           WHERE l.account_id = e.account_id
             AND ((l.usage_record_id = e.record_id AND l.kind IN ('debit', 'release', 'correction'))
                  OR (e.session_id IS NOT NULL AND l.session_id = e.session_id AND l.kind = 'hold'))
           GROUP BY l.allocation_id, a.expires_at, a.voided_at, a.frozen, a.currency
          HAVING SUM(l.amount) < 0) p
       ORDER BY e.ord, p.last DESC;
  END $function$;
