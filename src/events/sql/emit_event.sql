CREATE OR REPLACE FUNCTION public.emit_event(p_type character varying, p_user_id character varying, p_data jsonb)
 RETURNS uuid
 LANGUAGE plpgsql
AS $function$
      DECLARE
        v_id uuid;
        v_deliveries integer;
      BEGIN
        INSERT INTO events (type, user_id, data) VALUES (p_type, p_user_id, p_data) RETURNING id INTO v_id;
        -- FOR KEY SHARE, the lock the deliveries' foreign key takes anyway, taken while reading: an
        -- endpoint being deleted is waited for, then skipped if the deletion committed, instead of
        -- failing the change that emits (a grant, a settlement) on the foreign key.
        INSERT INTO webhook_deliveries (event_id, endpoint_id)
          SELECT v_id, e.id FROM webhook_endpoints e
           WHERE e.is_active AND e.events && ARRAY[p_type, '*']::varchar[]
             FOR KEY SHARE OF e;
        GET DIAGNOSTICS v_deliveries = ROW_COUNT;
        -- Sent at commit only, and folded into one per transaction.
        IF v_deliveries > 0 THEN
          PERFORM pg_notify('webhook_deliveries', '');
        END IF;
        RETURN v_id;
      END
      $function$;
