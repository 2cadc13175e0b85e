CREATE OR REPLACE FUNCTION public.usage_record_open_shortfall(p_id uuid)
 RETURNS integer
 LANGUAGE sql
 STABLE
AS $function$
  -- What the review of record p_id still has open (docs/usage.md "Corrections"): its shortfall as
  -- written, moved by its corrections (a correction lowers it, or raises it and opens the review
  -- again), while the review is open; 0 otherwise.
  SELECT CASE WHEN r.review_status = 'open'
              THEN r.shortfall + COALESCE((SELECT sum(c.review_delta) FROM usage_corrections c WHERE c.record_id = r.id), 0)::int
              ELSE 0 END
    FROM usage_records r WHERE r.id = p_id
$function$;
