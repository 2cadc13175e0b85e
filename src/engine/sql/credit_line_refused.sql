CREATE OR REPLACE FUNCTION public.credit_line_refused(p_moved bigint, p_left bigint, p_credits bigint)
 RETURNS boolean
 LANGUAGE sql
 IMMUTABLE
AS $function$
  -- Whether credit_ledger_write() refuses a line on a valued allocation (docs/finance.md "The money
  -- rule"): the line moves no money the rule can give (p_moved null: credits back without their
  -- money), or it would leave the allocation p_left minor units below 0, or money on p_credits = 0
  -- credits. The one statement of the refusal, for the writer's every path. LANGUAGE sql, so it inlines.
  SELECT p_moved IS NULL OR p_left < 0 OR (p_credits = 0 AND p_left <> 0)
$function$;
