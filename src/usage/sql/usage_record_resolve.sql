CREATE OR REPLACE FUNCTION public.usage_record_resolve(p_id uuid, p_resolution character varying, p_by character varying, p_note character varying,
    p_collected integer)
 RETURNS SETOF usage_records
 LANGUAGE sql
 SECURITY DEFINER
 SET search_path TO 'public', 'pg_temp'
AS $function$
  -- A record is written once: the service's role may update only its review state (docs/audit.md,
  -- "Metering is its own audit trail"). A collect is the one change to a record's credits, what the
  -- review took of its shortfall: made here, as the tables' owner, once (an open review) and at most
  -- the shortfall open (its corrections included: usage_record_open_shortfall()), so the role can do no
  -- more through it than the resolve route does. Each resolution is also a row of
  -- usage_review_resolutions, the change as the exports carry it (docs/exports.md): the record's row
  -- keeps only its latest review state.
  WITH review AS (
    SELECT r.id, usage_record_open_shortfall(r.id) AS shortfall
      FROM usage_records r
     WHERE r.id = p_id AND r.review_status = 'open' AND (p_resolution = 'collect' OR p_collected = 0)
  ), resolving AS (
    SELECT o.id, o.shortfall FROM review o WHERE p_collected BETWEEN 0 AND o.shortfall
  ), logged AS (
    INSERT INTO usage_review_resolutions (record_id, resolution, open_shortfall, collected, created_by)
    SELECT x.id, p_resolution, x.shortfall, p_collected, p_by FROM resolving x
  )
  UPDATE usage_records r
     SET review_status = 'resolved', resolution = p_resolution, resolved_by = p_by, resolved_at = now(),
         resolution_note = p_note, credits = r.credits + p_collected
    FROM resolving x
   WHERE r.id = x.id
  RETURNING r.*;
$function$;
