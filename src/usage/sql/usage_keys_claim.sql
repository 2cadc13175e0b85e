CREATE OR REPLACE FUNCTION public.usage_keys_claim(p_owner character varying, p_events jsonb)
 RETURNS TABLE(out_ord integer, out_event_id character varying, out_status character varying, out_usage_record_id uuid)
 LANGUAGE plpgsql
AS $function$
  -- The first part of a batch statement whose records carry an Idempotency-Key (docs/usage.md
  -- "Idempotency (every POST)"): usage_events_claim() for the events whose key is theirs to use, and for the
  -- others why not. p_events as usage_events_claim() reads them; an event with a key has `idem`:
  -- {principal, key, lock (its advisory lock id), fingerprint}. Per keyed event:
  -- in_flight (another transaction holds the key's lock: its request is still running), replayed (the
  -- key's answer is stored, for this request) or key_reused (stored for another request). Neither
  -- claims an event id nor charges anything; the key's lock stays held to the statement's end, so the
  -- answer this statement stores for its key is the only one.
  DECLARE
    k record;
    v_stored char(64);
    v_skip integer[] := '{}';
    v_why varchar[] := '{}';
    v_kept integer[];
  BEGIN
    FOR k IN
      SELECT x.ord::int AS ord, x.idem ->> 'principal' AS principal, x.idem ->> 'key' AS key,
             (x.idem ->> 'lock')::bigint AS lock, x.idem ->> 'fingerprint' AS fingerprint
        FROM ROWS FROM (jsonb_to_recordset(p_events) AS (idem jsonb)) WITH ORDINALITY AS x(idem, ord)
       WHERE x.idem IS NOT NULL
       ORDER BY x.ord
    LOOP
      IF NOT pg_try_advisory_xact_lock(k.lock) THEN
        v_skip := v_skip || k.ord;
        v_why := v_why || 'in_flight'::varchar;
        CONTINUE;
      END IF;
      -- A statement of its own: its snapshot sees the answer a request that held the lock committed
      -- after this statement began. FOR KEY SHARE writes a row lock to the WAL, so a replay's commit
      -- waits for the synchronous standby as a write's does (IdempotencyRepository.awaitDurableOnCommit).
      SELECT i.fingerprint INTO v_stored FROM idempotency_keys i
       WHERE i.principal = k.principal AND i.key = k.key FOR KEY SHARE;
      IF FOUND THEN
        v_skip := v_skip || k.ord;
        v_why := v_why || (CASE WHEN v_stored = k.fingerprint THEN 'replayed' ELSE 'key_reused' END)::varchar;
      END IF;
    END LOOP;

    IF cardinality(v_skip) = 0 THEN
      RETURN QUERY SELECT * FROM usage_events_claim(p_owner, p_events);
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
