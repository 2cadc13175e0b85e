CREATE OR REPLACE FUNCTION public.emit_events(p_type character varying, p_user_ids character varying[], p_data jsonb[])
 RETURNS integer
 LANGUAGE plpgsql
AS $function$
  -- Many events of one type at once (a re-rate's chunk of corrections): what emit_event() does for
  -- each i, event p_type of user p_user_ids[i] with data p_data[i], in array order, as one INSERT of
  -- the events and one of their webhook deliveries; the notice once. Answers how many events.
  DECLARE
    v_events integer;
    v_deliveries integer;
  BEGIN
    IF cardinality(p_user_ids) IS DISTINCT FROM cardinality(p_data) THEN
      RAISE EXCEPTION 'emit_events: one user and one data per event';
    END IF;
    v_events := COALESCE(cardinality(p_data), 0);
    IF v_events = 0 THEN RETURN 0; END IF;
    WITH e AS (
      INSERT INTO events (type, user_id, data)
      SELECT p_type, x.user_id, x.data FROM unnest(p_user_ids, p_data) WITH ORDINALITY AS x(user_id, data, ord) ORDER BY x.ord
      RETURNING id)
    -- The endpoints read under the foreign key's own lock, as emit_event() reads them: one being
    -- deleted is waited for, then skipped if the deletion committed.
    INSERT INTO webhook_deliveries (event_id, endpoint_id)
      SELECT e.id, w.id FROM e CROSS JOIN webhook_endpoints w
       WHERE w.is_active AND w.events && ARRAY[p_type, '*']::varchar[]
         FOR KEY SHARE OF w;
    GET DIAGNOSTICS v_deliveries = ROW_COUNT;
    -- Sent at commit only, and folded into one per transaction.
    IF v_deliveries > 0 THEN
      PERFORM pg_notify('webhook_deliveries', '');
    END IF;
    RETURN v_events;
  END
  $function$;
