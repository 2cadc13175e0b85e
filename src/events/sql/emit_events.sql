CREATE OR REPLACE FUNCTION public.emit_events(p_type character varying, p_user_ids character varying[], p_data jsonb[])
 RETURNS uuid[]
 LANGUAGE plpgsql
AS $function$
  -- The one emitter: events of one type, event i of user p_user_ids[i] with data p_data[i], in array
  -- order, then their webhook deliveries (one per active endpoint subscribed to the type or to '*');
  -- the notice once. One event is an array of one (emit_event()). Answers the events' ids as the
  -- INSERT returned them (one event: its id).
  DECLARE
    v_ids uuid[];
    v_deliveries integer;
  BEGIN
    IF cardinality(p_user_ids) IS DISTINCT FROM cardinality(p_data) THEN
      RAISE EXCEPTION 'emit_events: one user and one data per event';
    END IF;
    WITH e AS (
      INSERT INTO events (type, user_id, data)
      SELECT p_type, x.user_id, x.data FROM unnest(p_user_ids, p_data) WITH ORDINALITY AS x(user_id, data, ord) ORDER BY x.ord
      RETURNING id)
    SELECT array_agg(e.id) INTO v_ids FROM e;
    IF v_ids IS NULL THEN RETURN '{}'; END IF;
    -- FOR KEY SHARE, the lock the deliveries' foreign key takes anyway, taken while reading: an
    -- endpoint being deleted is waited for, then skipped if the deletion committed, instead of
    -- failing the change that emits (a grant, a settlement) on the foreign key.
    INSERT INTO webhook_deliveries (event_id, endpoint_id)
      SELECT e.id, w.id FROM unnest(v_ids) AS e(id) CROSS JOIN webhook_endpoints w
       WHERE w.is_active AND w.events && ARRAY[p_type, '*']::varchar[]
         FOR KEY SHARE OF w;
    GET DIAGNOSTICS v_deliveries = ROW_COUNT;
    -- Sent at commit only, and folded into one per transaction.
    IF v_deliveries > 0 THEN
      PERFORM pg_notify('webhook_deliveries', '');
    END IF;
    RETURN v_ids;
  END
  $function$;
