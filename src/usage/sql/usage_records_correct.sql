CREATE OR REPLACE FUNCTION public.usage_records_correct(p_correction_id character varying, p_reason character varying, p_created_by character varying, p_record_ids uuid[], p_credits integer[], p_body_hashes character varying[], p_expiry_days integer, p_rate_default integer, p_thresholds integer[])
 RETURNS TABLE(out_record_id uuid, out_delta integer, out_moved bigint)
 LANGUAGE plpgsql
AS $function$
  -- Many records corrected at once (a re-rate's chunk, docs/pricing.md "Re-rating"), in the caller's
  -- transaction: record p_record_ids[i] set to p_credits[i] credits by the correction p_correction_id
  -- with the reason p_reason, made by p_created_by, as one correction of the usage module does it
  -- (docs/usage.md "Corrections", UsageCorrectionsService.correct()), record after record in array
  -- order: the record locked, then its net read (its credits, what its corrections moved, its open
  -- shortfall); a correction id the record already has moves nothing and answers that correction's
  -- delta (the same body: p_body_hashes[i], the hash of the body it stands for; another body fails);
  -- else the credits moved by the one engine function credits_correct() under the account's lock
  -- when they differ, the usage_corrections row written, the review opened again by a shortfall,
  -- and the event `usage.corrected` when something moved. Per record: its delta (net after minus
  -- before) and the credits it moved on the balance (returned + regranted − collected − debt).
  DECLARE
    r record;
    m record;
    k integer;
    v_id uuid;
    v_found record;
    v_previous integer;
    v_delta integer;
    v_shortfall integer;
    v_reopens boolean;
    v_cid uuid;
    v_account bigint;
  BEGIN
    IF cardinality(p_credits) IS DISTINCT FROM cardinality(p_record_ids)
       OR cardinality(p_body_hashes) IS DISTINCT FROM cardinality(p_record_ids) THEN
      RAISE EXCEPTION 'usage_records_correct: one credits and one body hash per record';
    END IF;
    FOR k IN 1 .. COALESCE(cardinality(p_record_ids), 0) LOOP
      v_id := p_record_ids[k];
      -- Locked first, read after: a statement that waited for the lock reads as of its own start, so
      -- one reading the corrections too would miss a correction committed while it waited.
      PERFORM 1 FROM usage_records WHERE id = v_id FOR UPDATE;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'usage_records_correct: no usage record %', v_id;
      END IF;
      SELECT u.user_id, u.org_id, u."timestamp", u.credits, u.api_key_id, u.review_status,
             CASE WHEN u.service LIKE 'chat-streaming%' THEN u.metadata ->> 'sessionId' END AS session_id,
             COALESCE(c.corrected, 0)::int AS corrected,
             CASE WHEN u.review_status = 'open' THEN u.shortfall + COALESCE(c.review, 0) ELSE 0 END::int AS open_shortfall,
             (u.shortfall + COALESCE(c.review, 0))::int AS review_base
        INTO r
        FROM usage_records u
        LEFT JOIN LATERAL (SELECT sum(x.delta - x.shortfall_delta) AS corrected, sum(x.review_delta) AS review
                             FROM usage_corrections x WHERE x.record_id = u.id) c ON true
       WHERE u.id = v_id;
      SELECT x.delta, x.body_hash INTO v_found
        FROM usage_corrections x WHERE x.record_id = v_id AND x.correction_id = p_correction_id;
      IF FOUND THEN
        IF v_found.body_hash IS DISTINCT FROM p_body_hashes[k] THEN
          RAISE EXCEPTION 'This correctionId was already used with a different body (correctionId %)', p_correction_id;
        END IF;
        out_record_id := v_id; out_delta := v_found.delta; out_moved := 0;
        RETURN NEXT;
        CONTINUE;
      END IF;
      v_previous := r.credits + r.corrected + r.open_shortfall;
      v_cid := uuid_v7();
      v_shortfall := 0;
      out_moved := 0;
      IF p_credits[k] <> v_previous THEN
        -- the account that paid: the organisation's, else the user's (each by its own key)
        IF r.org_id IS NOT NULL THEN
          v_account := (SELECT a.account_id FROM accounts a WHERE a.org_id = r.org_id);
        ELSE
          v_account := (SELECT a.account_id FROM accounts a WHERE a.user_id = r.user_id);
        END IF;
        SELECT * INTO m FROM credits_correct(v_account, v_id, v_cid, r.session_id, p_credits[k] - v_previous, r.open_shortfall,
                                             CASE WHEN r.org_id IS NOT NULL THEN r.user_id END, r.api_key_id, r."timestamp",
                                             p_created_by, p_expiry_days, p_rate_default, p_thresholds);
        v_shortfall := m.out_shortfall;
        out_moved := m.out_returned + m.out_regranted - m.out_collected - m.out_debt;
      END IF;
      -- A shortfall on a record whose review is not open opens it again at that amount.
      v_reopens := v_shortfall > 0 AND r.review_status IS DISTINCT FROM 'open';
      v_delta := p_credits[k] - v_previous;
      INSERT INTO usage_corrections (id, record_id, correction_id, body_hash, previous_credits, credits, delta,
                                     shortfall_delta, review_delta, reason, created_by, created_at)
      VALUES (v_cid, v_id, p_correction_id, p_body_hashes[k], v_previous, p_credits[k], v_delta, v_shortfall,
              CASE WHEN v_reopens THEN v_shortfall - r.review_base ELSE v_shortfall END, p_reason, p_created_by,
              clock_timestamp());
      IF v_reopens THEN
        UPDATE usage_records SET billing_status = 'needs_review', review_status = 'open', resolution = NULL,
               resolved_by = NULL, resolved_at = NULL, resolution_note = NULL
         WHERE id = v_id;
      END IF;
      IF v_delta <> 0 THEN
        PERFORM emit_event('usage.corrected', r.user_id,
                           jsonb_build_object('userId', r.user_id)
                           || CASE WHEN r.org_id IS NOT NULL THEN jsonb_build_object('orgId', r.org_id) ELSE '{}'::jsonb END
                           || jsonb_build_object('recordId', v_id, 'correctionId', p_correction_id, 'delta', v_delta,
                                                 'credits', p_credits[k]));
      END IF;
      out_record_id := v_id; out_delta := v_delta;
      RETURN NEXT;
    END LOOP;
  END $function$;
