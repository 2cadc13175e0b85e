CREATE OR REPLACE FUNCTION public.emit_event(p_type character varying, p_user_id character varying, p_data jsonb)
 RETURNS uuid
 LANGUAGE plpgsql
AS $function$
  -- One event: a batch of one through the one emitter, emit_events(); its id.
  BEGIN
    RETURN (emit_events(p_type, ARRAY[p_user_id], ARRAY[p_data]))[1];
  END
  $function$;
