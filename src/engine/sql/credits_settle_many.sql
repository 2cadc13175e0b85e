CREATE OR REPLACE FUNCTION public.credits_settle_many(p_account_ids bigint[], p_session_ids character varying[], p_charges integer[],
    p_created_by character varying[], p_usage_record_ids uuid[], p_rate_default integer, p_thresholds integer[],
    p_member_ids character varying[] DEFAULT NULL::character varying[], p_volumes jsonb[] DEFAULT NULL::jsonb[])
 RETURNS TABLE(out_ord integer, out_status character varying, out_held bigint, out_kept bigint, out_refund bigint, out_collected bigint, out_debt bigint,
    out_shortfall bigint, out_released bigint, out_expired bigint, out_voided bigint, out_charge integer, out_volume_step integer)
 LANGUAGE plpgsql
AS $function$
  -- Settlements that arrive together (docs/money.md "Finalizes that arrive together"), one per
  -- position of the arrays: every account they name is locked once, in account id order, before any
  -- of them settles, so two such statements never deadlock and one account's settlements wait for its
  -- lock once a statement; then each is settled in array order by credits_settle(), exactly as alone
  -- (its own lock of the account, held by this transaction already, waits for nothing). out_ord: the
  -- position. p_member_ids and p_volumes may be NULL for none.
  DECLARE
    k integer;
  BEGIN
    PERFORM 1 FROM credits_lock_account_ids(p_account_ids);
    FOR k IN 1 .. COALESCE(cardinality(p_account_ids), 0) LOOP
      RETURN QUERY
        SELECT k, s.out_status, s.out_held, s.out_kept, s.out_refund, s.out_collected, s.out_debt, s.out_shortfall,
               s.out_released, s.out_expired, s.out_voided, s.out_charge, s.out_volume_step
          FROM credits_settle(p_account_ids[k], p_session_ids[k], p_charges[k], p_created_by[k], p_usage_record_ids[k],
                              p_rate_default, p_thresholds, p_member_ids[k], p_volumes[k]) s;
    END LOOP;
  END $function$;
