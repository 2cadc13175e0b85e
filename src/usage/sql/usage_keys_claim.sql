CREATE OR REPLACE FUNCTION public.usage_keys_claim(p_owner character varying, p_events jsonb)
 RETURNS TABLE(out_ord integer, out_event_id character varying, out_status character varying, out_usage_record_id uuid)
 LANGUAGE plpgsql
AS $function$
  -- The first part of a batch statement whose records carry an Idempotency-Key (docs/usage.md
  -- "Idempotency (every POST)"): usage_events_claim() for the events whose key is theirs to use (with no event
  -- id among them, usage_events_unclaimed(): nothing to claim), and for the others why not. p_events as
  -- usage_events_claim() reads them; an event with a key has `idem`:
  -- {principal, key, lock (its advisory lock id), fingerprint}. Per keyed event:
  -- in_flight (another transaction holds the key's lock: its request is still running), replayed (the
  -- key's answer is stored, for this request) or key_reused (stored for another request). Neither
  -- claims an event id nor charges anything; the key's lock stays held to the statement's end, so the
  -- answer this statement stores for its key is the only one.
  DECLARE
    v_busy integer[];
    v_found integer[];
    v_found_why varchar[];
    v_ids integer;
    v_skip integer[];
    v_why varchar[];
    v_kept integer[];
  BEGIN
    -- Every key's lock, tried in one statement (a try never waits, so the order they are taken in
    -- cannot deadlock): a key another transaction holds is in flight. The events' ids counted too.
    SELECT array_agg(k.ord ORDER BY k.ord) FILTER (WHERE k.idem AND NOT k.locked), count(k.event_id)::int
      INTO v_busy, v_ids
      FROM (SELECT x.ord::int AS ord, x.idem IS NOT NULL AS idem, x.event_id,
                   x.idem IS NOT NULL AND pg_try_advisory_xact_lock((x.idem ->> 'lock')::bigint) AS locked
              FROM ROWS FROM (jsonb_to_recordset(p_events) AS (idem jsonb, event_id varchar))
                   WITH ORDINALITY AS x(idem, event_id, ord)
            OFFSET 0) k;
    -- The stored answers of the keys now held, in a statement of its own: its snapshot sees the answer
    -- a request that held a lock committed after the first statement began. One key lookup a key
    -- (lateral, OFFSET 0: joined, the generic plan could hash a scan of every key). FOR KEY SHARE writes
    -- a row lock to the WAL, so a replay's commit waits for the synchronous standby as a write's does
    -- (IdempotencyRepository.awaitDurableOnCommit).
    SELECT array_agg(s.ord ORDER BY s.ord),
           array_agg((CASE WHEN s.stored = s.fingerprint THEN 'replayed' ELSE 'key_reused' END)::varchar ORDER BY s.ord)
      INTO v_found, v_found_why
      FROM (SELECT x.ord::int AS ord, x.idem ->> 'fingerprint' AS fingerprint, i.fingerprint AS stored
              FROM ROWS FROM (jsonb_to_recordset(p_events) AS (idem jsonb)) WITH ORDINALITY AS x(idem, ord)
             CROSS JOIN LATERAL (SELECT i.fingerprint FROM idempotency_keys i
                                  WHERE i.principal = x.idem ->> 'principal' AND i.key = x.idem ->> 'key'
                                 OFFSET 0 FOR KEY SHARE) i
             WHERE x.idem IS NOT NULL AND x.ord <> ALL (COALESCE(v_busy, '{}'))) s;
    v_skip := COALESCE(v_busy, '{}') || COALESCE(v_found, '{}');
    v_why := array_fill('in_flight'::varchar, ARRAY[COALESCE(cardinality(v_busy), 0)]) || COALESCE(v_found_why, '{}');

    IF cardinality(v_skip) = 0 THEN
      IF v_ids = 0 THEN
        -- No event ids (records that arrive together): nothing to claim, the events as they stand.
        RETURN QUERY SELECT u.out_ord, u.out_event_id, u.out_status, u.out_usage_record_id
                       FROM usage_events_unclaimed(p_events) u;
      ELSE
        RETURN QUERY SELECT * FROM usage_events_claim(p_owner, p_events);
      END IF;
      RETURN;
    END IF;
    SELECT array_agg(x.ord::int ORDER BY x.ord) INTO v_kept
      FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(event, ord)
     WHERE x.ord <> ALL (v_skip);
    RETURN QUERY
      SELECT s.ord, NULL::varchar, s.why, NULL::uuid
        FROM unnest(v_skip, v_why) AS s(ord, why)
      UNION ALL
      SELECT v_kept[c.out_ord], c.out_event_id, c.out_status, c.out_usage_record_id
        FROM usage_events_claim(p_owner, (SELECT jsonb_agg(p_events -> (o - 1) ORDER BY n)
                                             FROM unnest(v_kept) WITH ORDINALITY AS u(o, n))) c
       WHERE v_kept IS NOT NULL
      ORDER BY 1;
  END $function$;
