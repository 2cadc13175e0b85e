CREATE OR REPLACE FUNCTION public.credit_volume_correct(p_account_ids bigint[], p_models character varying[], p_ats timestamp with time zone[],
    p_tokens bigint[], p_charged integer[], p_backs integer[], p_usage_records uuid[], p_correction_ids uuid[])
 RETURNS integer
 LANGUAGE plpgsql
AS $function$
  -- What a downward correction (or a re-rate's) of a record priced at volume steps takes out of its
  -- period's total (docs/pricing.md "Volume steps"), in the correction's transaction,
  -- under the account's lock credits_correct() took: record i of account p_account_ids[i], on model
  -- p_models[i], occurred at p_ats[i], metered p_tokens[i] tokens and was charged p_charged[i]
  -- credits (the larger of its charge and its net before the correction); p_backs[i] credits of it
  -- went back (> 0) by correction p_correction_ids[i] of usage record p_usage_records[i]. The period's total (the row whose period holds
  -- the record's time) loses:
  --   cost: the credits that went back, so the period's charged credits are what its records are
  --     charged net, and a later step crossing gives back only what they paid above the new step;
  --   tokens: the record's tokens in the share of its charge that went back, floor(tokens × back /
  --     charged): a record corrected to 0 leaves the total whole;
  --   base: in the share cost loses, so the total's exact credits before the steps stay in step with it;
  --   value_minor: the money that came back with the correction in the period's currency.
  -- None goes below 0. Answers how many totals it lowered.
  DECLARE
    k integer;
    v_done integer := 0;
    v_rows integer;
  BEGIN
    FOR k IN 1 .. COALESCE(cardinality(p_account_ids), 0) LOOP
      CONTINUE WHEN p_backs[k] IS NULL OR p_backs[k] <= 0 OR p_models[k] IS NULL;
      UPDATE credit_volume_totals t
         SET tokens = GREATEST(t.tokens - floor(p_tokens[k]::numeric * LEAST(p_backs[k], GREATEST(p_charged[k], 1))
                                                / GREATEST(p_charged[k], 1))::bigint, 0),
             base = CASE WHEN t.cost <= p_backs[k] THEN 0 ELSE t.base - t.base * p_backs[k] / t.cost END,
             cost = GREATEST(t.cost - p_backs[k], 0),
             value_minor = GREATEST(t.value_minor - COALESCE((SELECT sum(l.value_minor) FROM credit_ledger l
                                                               WHERE l.usage_record_id = p_usage_records[k]
                                                                 AND l.correction_id = p_correction_ids[k]
                                                                 AND l.account_id = p_account_ids[k]
                                                                 AND l.currency = t.currency), 0), 0),
             updated_at = now()
        FROM (SELECT v.period_start FROM credit_volume_totals v
               WHERE v.account_id = p_account_ids[k] AND v.model_id = p_models[k]
                 AND v.period_start <= p_ats[k] AND v.period_end > p_ats[k]
               ORDER BY v.period_start DESC LIMIT 1) p
       WHERE t.account_id = p_account_ids[k] AND t.model_id = p_models[k] AND t.period_start = p.period_start;
      GET DIAGNOSTICS v_rows = ROW_COUNT;
      v_done := v_done + v_rows;
    END LOOP;
    RETURN v_done;
  END $function$;
