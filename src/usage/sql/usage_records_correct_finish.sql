CREATE OR REPLACE FUNCTION public.usage_records_correct_finish(p_correction_id character varying, p_reason character varying, p_created_by character varying,
    p_record_ids uuid[], p_credits integer[], p_body_hashes character varying[], p_found boolean[], p_ids uuid[], p_previous integer[],
    p_review character varying[], p_base integer[], p_users character varying[], p_orgs character varying[], p_shortfalls integer[])
 RETURNS TABLE(out_ord integer, out_record_id uuid, out_delta integer, out_id uuid, out_previous integer, out_created_at timestamp with time zone)
 LANGUAGE plpgsql
AS $function$
  -- The second half of usage records corrected (docs/usage.md "Corrections"), in the statement
  -- usage_records_correct_begin() opened, after the engine moved the credits: record p_record_ids[i]
  -- set to p_credits[i] credits by the correction p_correction_id with the reason p_reason, made by
  -- p_created_by, as the first half read it (p_found[i]: it has that correction; p_ids[i]: the new
  -- correction's id; p_previous[i], p_review[i], p_base[i]: its net, review and review base; p_users[i],
  -- p_orgs[i]: who paid), with the shortfall the engine left open p_shortfalls[i]:
  --   4. the usage_corrections rows written, the reviews a shortfall opens again, and the event
  --      `usage.corrected` of each record where something moved, in array order (emit_events(): one
  --      INSERT for them all).
  -- Per record, in array order (out_ord): its delta (net after minus before), and its correction's id,
  -- previous credits and time.
  DECLARE
    n integer := COALESCE(cardinality(p_record_ids), 0);
    v_reopen uuid[];
  BEGIN
    IF n = 0 THEN RETURN; END IF;
    -- 4. The corrections, in array order. A shortfall on a record whose review is not open opens it
    -- again at that amount: what the review reads (shortfall + Σ review_delta) becomes exactly it.
    INSERT INTO usage_corrections (id, record_id, correction_id, body_hash, previous_credits, credits, delta,
                                   shortfall_delta, review_delta, reason, created_by, created_at)
    SELECT p_ids[x.ord], x.record_id, p_correction_id, x.body_hash, p_previous[x.ord], x.credits, x.credits - p_previous[x.ord],
           p_shortfalls[x.ord],
           CASE WHEN p_shortfalls[x.ord] > 0 AND p_review[x.ord] IS DISTINCT FROM 'open'
                THEN p_shortfalls[x.ord] - p_base[x.ord] ELSE p_shortfalls[x.ord] END,
           p_reason, p_created_by, clock_timestamp()
      FROM unnest(p_record_ids, p_credits, p_body_hashes, p_found) WITH ORDINALITY AS x(record_id, credits, body_hash, found, ord)
     WHERE NOT x.found
     ORDER BY x.ord;
    SELECT array_agg(x.record_id) INTO v_reopen
      FROM unnest(p_record_ids, p_shortfalls, p_review) AS x(record_id, shortfall, review)
     WHERE x.shortfall > 0 AND x.review IS DISTINCT FROM 'open';
    IF v_reopen IS NOT NULL THEN
      UPDATE usage_records SET billing_status = 'needs_review', review_status = 'open', resolution = NULL,
             resolved_by = NULL, resolved_at = NULL, resolution_note = NULL
       WHERE id = ANY (v_reopen);
    END IF;
    PERFORM emit_events('usage.corrected',
                        ARRAY(SELECT p_users[x.ord]
                                FROM unnest(p_found, p_credits, p_previous) WITH ORDINALITY AS x(found, credits, previous, ord)
                               WHERE NOT x.found AND x.credits <> x.previous
                               ORDER BY x.ord),
                        ARRAY(SELECT jsonb_build_object('userId', p_users[x.ord])
                                     || CASE WHEN p_orgs[x.ord] IS NOT NULL THEN jsonb_build_object('orgId', p_orgs[x.ord]) ELSE '{}'::jsonb END
                                     || jsonb_build_object('recordId', p_record_ids[x.ord], 'correctionId', p_correction_id,
                                                           'delta', p_credits[x.ord] - p_previous[x.ord], 'credits', p_credits[x.ord])
                                FROM unnest(p_found, p_credits, p_previous) WITH ORDINALITY AS x(found, credits, previous, ord)
                               WHERE NOT x.found AND x.credits <> x.previous
                               ORDER BY x.ord));
    RETURN QUERY
      SELECT x.ord::int, x.record_id, c.delta, c.id, c.previous_credits, c.created_at
        FROM unnest(p_record_ids) WITH ORDINALITY AS x(record_id, ord)
        JOIN usage_corrections c ON c.record_id = x.record_id AND c.correction_id = p_correction_id
       ORDER BY x.ord;
  END $function$;
