CREATE OR REPLACE FUNCTION public.usage_records_correct_begin(p_correction_id character varying, p_record_ids uuid[], p_credits integer[],
    p_body_hashes character varying[])
 RETURNS TABLE(out_ord integer, out_record_id uuid, out_credits integer, out_body_hash character varying, out_found boolean, out_id uuid, out_previous integer,
    out_review character varying, out_base integer, out_user character varying, out_org character varying, out_moves boolean, out_account bigint,
    out_session character varying, out_delta integer, out_open integer, out_member character varying, out_api_key_id uuid, out_at timestamp with time zone,
    out_model character varying, out_occurred timestamp with time zone, out_tokens bigint, out_charged integer, out_returned integer)
 LANGUAGE plpgsql
AS $function$
  -- The first half of usage records corrected, one or many alike (a single correction is a batch of
  -- one, a re-rate's chunk many; docs/usage.md "Corrections"), in the caller's statement: record
  -- p_record_ids[i] (each once) to be set to p_credits[i] credits by the correction p_correction_id,
  -- each step one statement over all the records:
  --   1. the records locked, in id order, then their net read (usage_record_net(): their credits, what
  --      their corrections moved, their open shortfall) and the correction p_correction_id they may already have;
  --   2. a correction id a record already has moves nothing and answers that correction (the same
  --      body: p_body_hashes[i], the hash of the body it stands for; another body fails).
  -- One row per record, in array order (out_ord): what the engine's correction of a record's credits
  -- reads (out_moves: a new correction whose credits differ; its account, session, delta, open
  -- shortfall, member, key, time, and for a record priced at volume steps its model, time, tokens,
  -- charge and what goes back of it), and what usage_records_correct_finish() writes with it (the new
  -- correction's id, out_id, null for one the record has; its previous net, review, user and org).
  DECLARE
    n integer := COALESCE(cardinality(p_record_ids), 0);
    v_missing uuid;
    v_reused integer;
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
    SELECT (array_agg(k.id ORDER BY k.ord) FILTER (WHERE u.id IS NULL))[1] INTO v_missing
      FROM unnest(p_record_ids) WITH ORDINALITY AS k(id, ord)
      LEFT JOIN usage_records u ON u.id = k.id;
    IF v_missing IS NOT NULL OR array_position(p_record_ids, NULL) IS NOT NULL THEN
      RAISE EXCEPTION 'usage_records_correct: no usage record %', v_missing;
    END IF;
    -- 2. The corrections the records already have: the same body, or the call fails.
    SELECT min(k.ord) INTO v_reused
      FROM unnest(p_record_ids, p_body_hashes) WITH ORDINALITY AS k(id, body_hash, ord)
      JOIN usage_corrections f ON f.record_id = k.id AND f.correction_id = p_correction_id
     WHERE f.body_hash IS DISTINCT FROM k.body_hash;
    IF v_reused IS NOT NULL THEN
      RAISE EXCEPTION 'This correctionId was already used with a different body (correctionId %)', p_correction_id;
    END IF;
    RETURN QUERY
      SELECT x.ord::int, x.id, x.credits, x.body_hash, x.found, CASE WHEN NOT x.found THEN uuid_v7() END,
             x.previous, x.review, x.base, x.user_id, x.org_id, NOT x.found AND x.credits <> x.previous,
             x.account_id, x.session_id, x.credits - x.previous, x.open, CASE WHEN x.org_id IS NOT NULL THEN x.user_id END,
             x.api_key_id, x.at, x.model_id, x.occurred_at, x.tokens, GREATEST(x.charged, x.previous), GREATEST(x.previous - x.credits, 0)
        FROM (SELECT k.ord, k.id, k.credits, k.body_hash, f.id IS NOT NULL AS found, c.net_credits AS previous,
                     u.review_status AS review, c.review AS base, u.user_id, u.org_id,
                     -- the account that paid, as the record carries it
                     u.account_id,
                     CASE WHEN u.service LIKE 'chat-streaming%' THEN (u.metadata ->> 'sessionId')::varchar END AS session_id,
                     c.open_review AS open, u.api_key_id, u."timestamp" AS at,
                     -- a record priced at volume steps: its model, time, tokens and charge, for its period's total
                     CASE WHEN u.volume_step IS NOT NULL THEN u.model_id END AS model_id, u.occurred_at,
                     COALESCE(u.tokens, COALESCE(u.input_tokens, 0) + COALESCE(u.output_tokens, 0) + COALESCE(u.cache_read_tokens, 0)
                                        + COALESCE(u.cache_write_tokens, 0) + COALESCE(u.reasoning_tokens, 0))::bigint AS tokens,
                     u.credits AS charged
                FROM unnest(p_record_ids, p_credits, p_body_hashes) WITH ORDINALITY AS k(id, credits, body_hash, ord)
                JOIN usage_records u ON u.id = k.id
                CROSS JOIN LATERAL usage_record_net(u.id, u.credits, u.shortfall, u.review_status) c
                LEFT JOIN usage_corrections f ON f.record_id = u.id AND f.correction_id = p_correction_id
               ORDER BY k.ord) x
       -- in array order, so the new corrections' ids (time-ordered) are too
       ORDER BY x.ord;
  END $function$;
