CREATE OR REPLACE FUNCTION public.usage_events_release(p_owner character varying, p_event_ids character varying[], p_usage_records uuid[])
 RETURNS integer
 LANGUAGE plpgsql
AS $function$
  -- The last part of a batch statement: the events whose take was refused leave no record and give
  -- their ids back, so a later attempt can still record them. A function, not a CTE of the statement:
  -- its statements see the records and claims the statement's earlier parts wrote. Answers how many
  -- records it deleted.
  DECLARE
    v_deleted integer;
  BEGIN
    IF COALESCE(cardinality(p_usage_records), 0) = 0 THEN RETURN 0; END IF;
    DELETE FROM usage_records r WHERE r.id = ANY (p_usage_records);
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    DELETE FROM usage_event_ids f WHERE f.owner = p_owner AND f.event_id = ANY (p_event_ids);
    RETURN v_deleted;
  END $function$;
