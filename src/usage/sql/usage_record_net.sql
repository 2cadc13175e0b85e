CREATE OR REPLACE FUNCTION public.usage_record_net(p_id uuid, p_credits integer, p_shortfall integer, p_review_status character varying)
 RETURNS TABLE(net_credits integer, open_review integer, review integer, corrected integer, correction_count integer)
 LANGUAGE sql
 STABLE
AS $function$
  -- A record's figures after its corrections (docs/usage.md "Corrections"), the one definition every
  -- read uses: record p_id with its credits p_credits, its shortfall as written p_shortfall and its
  -- review status p_review_status (the caller's row: no second read of the record).
  --   corrected: what its corrections moved that was not shortfall, Σ (delta − shortfall_delta);
  --   review: its review's amount as read, open or not: the shortfall moved by its corrections
  --     (shortfall + Σ review_delta: a correction lowers it, or raises it and opens the review again);
  --   open_review: that amount while the review is open, 0 otherwise;
  --   net_credits: what the record took, after its corrections: credits + corrected + open_review.
  -- One row always. A set-returning SQL function of one SELECT, so PostgreSQL inlines it where it is
  -- read (FROM …, LATERAL usage_record_net(u.id, …)): one index scan of the record's corrections.
  SELECT (p_credits + COALESCE(sum(c.delta - c.shortfall_delta), 0)
          + CASE WHEN p_review_status = 'open' THEN p_shortfall + COALESCE(sum(c.review_delta), 0) ELSE 0 END)::int,
         (CASE WHEN p_review_status = 'open' THEN p_shortfall + COALESCE(sum(c.review_delta), 0) ELSE 0 END)::int,
         (p_shortfall + COALESCE(sum(c.review_delta), 0))::int,
         COALESCE(sum(c.delta - c.shortfall_delta), 0)::int,
         count(*)::int
    FROM usage_corrections c
   WHERE c.record_id = p_id
$function$;
