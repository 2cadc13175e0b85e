CREATE OR REPLACE FUNCTION public.usage_record_open_shortfall(p_id uuid)
 RETURNS integer
 LANGUAGE sql
 STABLE
AS $function$
  -- What the review of record p_id still has open (docs/usage.md "Corrections"): usage_record_net()'s
  -- open_review.
  SELECT n.open_review
    FROM usage_records r CROSS JOIN LATERAL usage_record_net(r.id, r.credits, r.shortfall, r.review_status) n
   WHERE r.id = p_id
$function$;
