CREATE OR REPLACE FUNCTION public.credit_volume_charges(p_account_ids bigint[], p_models character varying[], p_modes character varying[],
    p_starts timestamp with time zone[], p_ends timestamp with time zone[], p_tokens bigint[], p_bases numeric[], p_costs numeric[], p_give_backs integer[],
    p_expires timestamp with time zone[], p_usage_records uuid[], p_sessions character varying[], p_created_by character varying, p_api_key_id uuid,
    p_created_bys character varying[] DEFAULT NULL::character varying[])
 RETURNS integer
 LANGUAGE plpgsql
AS $function$
  -- The volume tail (docs/pricing.md "Volume steps"): the charges on rules with volume steps that
  -- credit_volume_price() decided and the take let through, once their lines are written, a batch in
  -- the order they happened; the take's events and a settlement's one charge (a batch of one) alike.
  -- Charge i: account p_account_ids[i], model p_models[i], rule mode p_modes[i], the period from
  -- p_starts[i] to p_ends[i] with its total after the charge (p_tokens[i], p_bases[i]: un-stepped
  -- exact credits, p_costs[i]: the credits charged, net of give-backs), what a cheaper step gives
  -- back (p_give_backs[i], 0: nothing) in an allocation expiring p_expires[i]; its lines are usage record
  -- p_usage_records[i]'s debits (and a settlement's releases) and the holds of session p_sessions[i]
  -- (null: none); a give-back is granted by p_created_by, or by the charge's own writer
  -- (p_created_bys[i]) when given. Three steps, each one statement for the batch:
  -- 1. Each period's total kept: its last charge's total (each charge was priced against the one
  --    before it), one upsert by key (the conflict's index probe: no join the planner could hash).
  -- 2. On `volume` rules, the money their lines took of valued lots added to the period's total
  --    (value_minor), so a give-back can carry its share of it. The period keeps the currency of the
  --    first valued lot that paid; lots of another currency add nothing.
  -- 3. The give-backs, in order (credit_volume_give_back()).
  -- Answers how many charges it kept: a caller assigns it, and an assignment costs no statement where
  -- a PERFORM costs one.
  DECLARE
    k integer;
  BEGIN
    INSERT INTO credit_volume_totals AS v (account_id, model_id, period_start, period_end, tokens, base, cost)
    SELECT DISTINCT ON (x.acc, x.model, x.start) x.acc, x.model, x.start, x.end_at, x.tokens, x.base, x.cost
      FROM unnest(p_account_ids, p_models, p_starts, p_ends, p_tokens, p_bases, p_costs)
           WITH ORDINALITY AS x(acc, model, start, end_at, tokens, base, cost, ord)
     ORDER BY x.acc, x.model, x.start, x.ord DESC
    ON CONFLICT (account_id, model_id, period_start)
    DO UPDATE SET tokens = EXCLUDED.tokens, base = EXCLUDED.base, cost = EXCLUDED.cost, updated_at = now();
    IF 'volume' = ANY (p_modes) THEN
      UPDATE credit_volume_totals t
         SET value_minor = t.value_minor + m.value, currency = m.currency
        FROM (SELECT x.acc, x.model, x.start, x.currency, sum(x.value)::bigint AS value
                FROM (SELECT e.acc, e.model, e.start, l.currency AS line_currency, -l.value_minor AS value,
                             COALESCE(v.currency, first_value(l.currency) OVER (PARTITION BY e.acc, e.model, e.start
                                                                               ORDER BY l.id)) AS currency
                        FROM unnest(p_account_ids, p_models, p_starts, p_usage_records, p_sessions, p_modes)
                             AS e(acc, model, start, rec, sess, mode)
                        JOIN credit_volume_totals v ON v.account_id = e.acc AND v.model_id = e.model AND v.period_start = e.start
                        JOIN credit_ledger l ON l.account_id = e.acc
                                            AND ((l.usage_record_id = e.rec AND l.kind IN ('debit', 'release'))
                                                 OR (l.session_id = e.sess AND l.kind = 'hold'))
                       WHERE e.mode = 'volume' AND l.value_minor IS NOT NULL) x
               WHERE x.line_currency = x.currency
               GROUP BY x.acc, x.model, x.start, x.currency) m
       WHERE t.account_id = m.acc AND t.model_id = m.model AND t.period_start = m.start;
    END IF;
    FOR k IN 1 .. cardinality(p_account_ids) LOOP
      IF p_give_backs[k] > 0 THEN
        PERFORM credit_volume_give_back(p_account_ids[k], p_give_backs[k], p_expires[k], p_usage_records[k],
                                        COALESCE(p_created_bys[k], p_created_by), p_api_key_id, p_models[k], p_starts[k]);
      END IF;
    END LOOP;
    RETURN cardinality(p_account_ids);
  END $function$;
