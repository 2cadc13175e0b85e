CREATE OR REPLACE FUNCTION public.usage_records_correct(p_correction_id character varying, p_reason character varying, p_created_by character varying,
    p_record_ids uuid[], p_credits integer[], p_body_hashes character varying[], p_expiry_days integer, p_rate_default integer, p_thresholds integer[])
 RETURNS TABLE(out_record_id uuid, out_delta integer, out_moved bigint, out_id uuid, out_previous integer, out_created_at timestamp with time zone)
 LANGUAGE plpgsql
AS $function$
  -- Usage records corrected, one or many alike (a single correction is a batch of one, a re-rate's
  -- chunk many; docs/usage.md "Corrections"), in the caller's transaction: record p_record_ids[i] (each
  -- once) set to p_credits[i] credits by the correction p_correction_id with the reason p_reason, made
  -- by p_created_by, each step one statement over all the records:
  --   1. the records locked, in id order, then their net read (usage_record_net(): their credits, what
  --      their corrections moved, their open shortfall) and the correction p_correction_id they may already have;
  --   2. a correction id a record already has moves nothing and answers that correction (the same
  --      body: p_body_hashes[i], the hash of the body it stands for; another body fails);
  --   3. the credits of the records whose credits differ moved by the engine at once
  --      (credits_correct(): their accounts locked, one take for what they add), and what went back
  --      of records priced at volume steps taken out of their periods' totals (credit_volume_correct());
  --   4. the usage_corrections rows written, the reviews a shortfall opens again, and the event
  --      `usage.corrected` of each record where something moved, in array order (emit_events(): one
  --      INSERT for them all).
  -- Per record, in array order: its delta (net after minus before), the credits it moved on the
  -- balance (returned + regranted − collected − debt), and its correction's id, previous credits and
  -- time.
  DECLARE
    n integer := COALESCE(cardinality(p_record_ids), 0);
    m record;
    v_missing uuid;
    v_reused integer;
    -- per record, by position
    r_user varchar[]; r_org varchar[]; r_at timestamptz[]; r_key uuid[]; r_review varchar[]; r_session varchar[];
    r_previous integer[]; r_open integer[]; r_base integer[]; r_account bigint[];
    r_found boolean[]; r_hash varchar[];
    r_model varchar[]; r_occurred timestamptz[]; r_tokens bigint[]; r_credits integer[];
    r_cid uuid[]; r_shortfall integer[]; r_moved bigint[];
    -- the records whose credits move (positions)
    c_ord integer[];
    v_reopen uuid[];
  BEGIN
    IF cardinality(p_credits) IS DISTINCT FROM n OR cardinality(p_body_hashes) IS DISTINCT FROM n THEN
      RAISE EXCEPTION 'usage_records_correct: one credits and one body hash per record';
    END IF;
    IF n = 0 THEN RETURN; END IF;
    IF (SELECT count(DISTINCT x) FROM unnest(p_record_ids) x) <> n THEN
      RAISE EXCEPTION 'usage_records_correct: each record once';
    END IF;
    -- 1. Locked first, read after: a statement that waited for a lock reads as of its own start, so
    -- one reading the corrections too would miss a correction committed while it waited. In id order,
    -- so two calls over overlapping records never deadlock.
    PERFORM 1 FROM (SELECT u.id FROM usage_records u WHERE u.id = ANY (p_record_ids) ORDER BY u.id FOR UPDATE) l;
    SELECT array_agg(u.user_id ORDER BY k.ord), array_agg(u.org_id ORDER BY k.ord), array_agg(u."timestamp" ORDER BY k.ord),
           array_agg(u.api_key_id ORDER BY k.ord), array_agg(u.review_status ORDER BY k.ord),
           array_agg(CASE WHEN u.service LIKE 'chat-streaming%' THEN u.metadata ->> 'sessionId' END ORDER BY k.ord),
           array_agg(c.net_credits ORDER BY k.ord), array_agg(c.open_review ORDER BY k.ord), array_agg(c.review ORDER BY k.ord),
           -- the account that paid, as the record carries it
           array_agg(u.account_id ORDER BY k.ord),
           array_agg(f.id IS NOT NULL ORDER BY k.ord), array_agg(f.body_hash ORDER BY k.ord),
           -- a record priced at volume steps: its model, time, tokens and charge, for its period's total
           array_agg(CASE WHEN u.volume_step IS NOT NULL THEN u.model_id END ORDER BY k.ord),
           array_agg(u.occurred_at ORDER BY k.ord),
           array_agg(COALESCE(u.tokens, COALESCE(u.input_tokens, 0) + COALESCE(u.output_tokens, 0) + COALESCE(u.cache_read_tokens, 0)
                                        + COALESCE(u.cache_write_tokens, 0) + COALESCE(u.reasoning_tokens, 0))::bigint ORDER BY k.ord),
           array_agg(u.credits ORDER BY k.ord),
           (array_agg(k.id ORDER BY k.ord) FILTER (WHERE u.id IS NULL))[1]
      INTO r_user, r_org, r_at, r_key, r_review, r_session, r_previous, r_open, r_base, r_account,
           r_found, r_hash, r_model, r_occurred, r_tokens, r_credits, v_missing
      FROM unnest(p_record_ids) WITH ORDINALITY AS k(id, ord)
      LEFT JOIN usage_records u ON u.id = k.id
      LEFT JOIN LATERAL usage_record_net(u.id, u.credits, u.shortfall, u.review_status) c ON true
      LEFT JOIN usage_corrections f ON f.record_id = u.id AND f.correction_id = p_correction_id;
    IF v_missing IS NOT NULL OR array_position(p_record_ids, NULL) IS NOT NULL THEN
      RAISE EXCEPTION 'usage_records_correct: no usage record %', v_missing;
    END IF;
    -- 2. The corrections the records already have: the same body, or the call fails.
    SELECT min(x.ord) INTO v_reused
      FROM unnest(r_found, r_hash, p_body_hashes) WITH ORDINALITY AS x(found, hash, body_hash, ord)
     WHERE x.found AND x.hash IS DISTINCT FROM x.body_hash;
    IF v_reused IS NOT NULL THEN
      RAISE EXCEPTION 'This correctionId was already used with a different body (correctionId %)', p_correction_id;
    END IF;
    -- 3. The credits that move, at once, for the new corrections whose credits differ.
    SELECT array_agg(CASE WHEN NOT x.found THEN uuid_v7() END ORDER BY x.ord) INTO r_cid
      FROM unnest(r_found) WITH ORDINALITY AS x(found, ord);
    r_shortfall := array_fill(0, ARRAY[n]);
    r_moved := array_fill(0::bigint, ARRAY[n]);
    SELECT array_agg(x.ord::int ORDER BY x.ord) INTO c_ord
      FROM unnest(r_found, p_credits, r_previous) WITH ORDINALITY AS x(found, credits, previous, ord)
     WHERE NOT x.found AND x.credits <> x.previous;
    IF c_ord IS NOT NULL THEN
      FOR m IN
        SELECT * FROM credits_correct(
          ARRAY(SELECT r_account[i] FROM unnest(c_ord) WITH ORDINALITY AS c(i, o) ORDER BY c.o),
          ARRAY(SELECT p_record_ids[i] FROM unnest(c_ord) WITH ORDINALITY AS c(i, o) ORDER BY c.o),
          ARRAY(SELECT r_cid[i] FROM unnest(c_ord) WITH ORDINALITY AS c(i, o) ORDER BY c.o),
          ARRAY(SELECT r_session[i] FROM unnest(c_ord) WITH ORDINALITY AS c(i, o) ORDER BY c.o),
          ARRAY(SELECT p_credits[i] - r_previous[i] FROM unnest(c_ord) WITH ORDINALITY AS c(i, o) ORDER BY c.o),
          ARRAY(SELECT r_open[i] FROM unnest(c_ord) WITH ORDINALITY AS c(i, o) ORDER BY c.o),
          ARRAY(SELECT CASE WHEN r_org[i] IS NOT NULL THEN r_user[i] END FROM unnest(c_ord) WITH ORDINALITY AS c(i, o) ORDER BY c.o),
          ARRAY(SELECT r_key[i] FROM unnest(c_ord) WITH ORDINALITY AS c(i, o) ORDER BY c.o),
          ARRAY(SELECT r_at[i] FROM unnest(c_ord) WITH ORDINALITY AS c(i, o) ORDER BY c.o),
          p_created_by, p_expiry_days, p_rate_default, p_thresholds)
      LOOP
        r_shortfall[c_ord[m.out_ord]] := m.out_shortfall;
        r_moved[c_ord[m.out_ord]] := m.out_returned + m.out_regranted - m.out_collected - m.out_debt;
      END LOOP;
      -- What went back of records priced at volume steps leaves their periods' totals with them
      -- (credit_volume_correct()), so a later step crossing never gives it back again.
      IF EXISTS (SELECT 1 FROM unnest(c_ord) AS c(i) WHERE r_model[c.i] IS NOT NULL AND p_credits[c.i] < r_previous[c.i]) THEN
        PERFORM credit_volume_correct(
          ARRAY(SELECT r_account[i] FROM unnest(c_ord) WITH ORDINALITY AS c(i, o) ORDER BY c.o),
          ARRAY(SELECT r_model[i] FROM unnest(c_ord) WITH ORDINALITY AS c(i, o) ORDER BY c.o),
          ARRAY(SELECT r_occurred[i] FROM unnest(c_ord) WITH ORDINALITY AS c(i, o) ORDER BY c.o),
          ARRAY(SELECT r_tokens[i] FROM unnest(c_ord) WITH ORDINALITY AS c(i, o) ORDER BY c.o),
          ARRAY(SELECT GREATEST(r_credits[i], r_previous[i]) FROM unnest(c_ord) WITH ORDINALITY AS c(i, o) ORDER BY c.o),
          ARRAY(SELECT GREATEST(r_previous[i] - p_credits[i], 0) FROM unnest(c_ord) WITH ORDINALITY AS c(i, o) ORDER BY c.o),
          ARRAY(SELECT p_record_ids[i] FROM unnest(c_ord) WITH ORDINALITY AS c(i, o) ORDER BY c.o),
          ARRAY(SELECT r_cid[i] FROM unnest(c_ord) WITH ORDINALITY AS c(i, o) ORDER BY c.o));
      END IF;
    END IF;
    -- 4. The corrections, in array order. A shortfall on a record whose review is not open opens it
    -- again at that amount: what the review reads (shortfall + Σ review_delta) becomes exactly it.
    INSERT INTO usage_corrections (id, record_id, correction_id, body_hash, previous_credits, credits, delta,
                                   shortfall_delta, review_delta, reason, created_by, created_at)
    SELECT r_cid[x.ord], x.record_id, p_correction_id, x.body_hash, r_previous[x.ord], x.credits, x.credits - r_previous[x.ord],
           r_shortfall[x.ord],
           CASE WHEN r_shortfall[x.ord] > 0 AND r_review[x.ord] IS DISTINCT FROM 'open'
                THEN r_shortfall[x.ord] - r_base[x.ord] ELSE r_shortfall[x.ord] END,
           p_reason, p_created_by, clock_timestamp()
      FROM unnest(p_record_ids, p_credits, p_body_hashes, r_found) WITH ORDINALITY AS x(record_id, credits, body_hash, found, ord)
     WHERE NOT x.found
     ORDER BY x.ord;
    SELECT array_agg(x.record_id) INTO v_reopen
      FROM unnest(p_record_ids, r_shortfall, r_review) AS x(record_id, shortfall, review)
     WHERE x.shortfall > 0 AND x.review IS DISTINCT FROM 'open';
    IF v_reopen IS NOT NULL THEN
      UPDATE usage_records SET billing_status = 'needs_review', review_status = 'open', resolution = NULL,
             resolved_by = NULL, resolved_at = NULL, resolution_note = NULL
       WHERE id = ANY (v_reopen);
    END IF;
    PERFORM emit_events('usage.corrected',
                        ARRAY(SELECT r_user[x.ord]
                                FROM unnest(r_found, p_credits, r_previous) WITH ORDINALITY AS x(found, credits, previous, ord)
                               WHERE NOT x.found AND x.credits <> x.previous
                               ORDER BY x.ord),
                        ARRAY(SELECT jsonb_build_object('userId', r_user[x.ord])
                                     || CASE WHEN r_org[x.ord] IS NOT NULL THEN jsonb_build_object('orgId', r_org[x.ord]) ELSE '{}'::jsonb END
                                     || jsonb_build_object('recordId', p_record_ids[x.ord], 'correctionId', p_correction_id,
                                                           'delta', p_credits[x.ord] - r_previous[x.ord], 'credits', p_credits[x.ord])
                                FROM unnest(r_found, p_credits, r_previous) WITH ORDINALITY AS x(found, credits, previous, ord)
                               WHERE NOT x.found AND x.credits <> x.previous
                               ORDER BY x.ord));
    RETURN QUERY
      SELECT x.record_id, c.delta, r_moved[x.ord], c.id, c.previous_credits, c.created_at
        FROM unnest(p_record_ids) WITH ORDINALITY AS x(record_id, ord)
        JOIN usage_corrections c ON c.record_id = x.record_id AND c.correction_id = p_correction_id
       ORDER BY x.ord;
  END $function$;
