CREATE OR REPLACE FUNCTION public.credit_volume_money(p_account_ids bigint[], p_models character varying[], p_starts timestamp with time zone[], p_usage_records uuid[], p_sessions character varying[])
 RETURNS void
 LANGUAGE plpgsql
AS $function$
  -- The money that charges on a `volume` rule took of valued lots, added to their period's total
  -- (credit_volume_totals.value_minor) once their lines are written, so a give-back can carry its share
  -- of it (credit_volume_give_back()). Charge i: account p_account_ids[i], model p_models[i], the
  -- period from p_starts[i]; its lines are usage record p_usage_records[i]'s debits (and a settlement's
  -- releases) and the holds of its session p_sessions[i] (null: none), net. The period keeps the
  -- currency of the first valued lot that paid; lots of another currency add nothing. One statement
  -- for a batch.
  BEGIN
    UPDATE credit_volume_totals t
       SET value_minor = t.value_minor + m.value, currency = m.currency
      FROM (SELECT x.acc, x.model, x.start, x.currency, sum(x.value)::bigint AS value
              FROM (SELECT e.acc, e.model, e.start, l.currency AS line_currency, -l.value_minor AS value,
                           COALESCE(v.currency, first_value(l.currency) OVER (PARTITION BY e.acc, e.model, e.start
                                                                             ORDER BY l.id)) AS currency
                      FROM unnest(p_account_ids, p_models, p_starts, p_usage_records, p_sessions) AS e(acc, model, start, rec, sess)
                      JOIN credit_volume_totals v ON v.account_id = e.acc AND v.model_id = e.model AND v.period_start = e.start
                      JOIN credit_ledger l ON l.account_id = e.acc
                                          AND ((l.usage_record_id = e.rec AND l.kind IN ('debit', 'release'))
                                               OR (l.session_id = e.sess AND l.kind = 'hold'))
                     WHERE l.value_minor IS NOT NULL) x
             WHERE x.line_currency = x.currency
             GROUP BY x.acc, x.model, x.start, x.currency) m
     WHERE t.account_id = m.acc AND t.model_id = m.model AND t.period_start = m.start;
  END $function$;
