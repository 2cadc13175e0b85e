CREATE OR REPLACE FUNCTION public.emit_event(p_type character varying, p_user_id character varying, p_data jsonb)
 RETURNS uuid
 LANGUAGE plpgsql
AS $function$
      DECLARE
        v_id uuid;
        v_deliveries integer;
      BEGIN
        INSERT INTO events (type, user_id, data) VALUES (p_type, p_user_id, p_data) RETURNING id INTO v_id;
        INSERT INTO webhook_deliveries (event_id, endpoint_id)
          SELECT v_id, e.id FROM webhook_endpoints e
           WHERE e.is_active AND e.events && ARRAY[p_type, '*']::varchar[];
        GET DIAGNOSTICS v_deliveries = ROW_COUNT;
        -- Sent at commit only, and folded into one per transaction.
        IF v_deliveries > 0 THEN
          PERFORM pg_notify('webhook_deliveries', '');
        END IF;
        RETURN v_id;
      END
      $function$;
