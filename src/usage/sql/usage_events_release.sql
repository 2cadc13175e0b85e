CREATE OR REPLACE FUNCTION public.usage_events_release(p_owner character varying, p_event_ids character varying[],
    p_owners character varying[] DEFAULT NULL::character varying[])
 RETURNS integer
 LANGUAGE plpgsql
AS $function$
  -- The last part of a batch statement: the events whose take was refused wrote no record and give
  -- their ids back, so a later attempt can still record them. A function, not a CTE of the statement:
  -- its statement sees the claims the statement's earlier parts wrote. Answers how many it gave back.
  -- p_owners: with p_owner null, each id's namespace (the ids' writers, in the same order).
  DECLARE
    v_released integer;
  BEGIN
    IF COALESCE(cardinality(p_event_ids), 0) = 0 THEN RETURN 0; END IF;
    IF p_owner IS NULL THEN
      DELETE FROM usage_event_ids f USING unnest(p_owners, p_event_ids) AS x(owner, event_id)
       WHERE f.owner = x.owner AND f.event_id = x.event_id;
    ELSE
      DELETE FROM usage_event_ids f WHERE f.owner = p_owner AND f.event_id = ANY (p_event_ids);
    END IF;
    GET DIAGNOSTICS v_released = ROW_COUNT;
    RETURN v_released;
  END $function$;
