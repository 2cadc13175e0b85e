CREATE OR REPLACE FUNCTION public.credit_alert_due(p_before bigint, p_after bigint, p_top_threshold integer)
 RETURNS boolean
 LANGUAGE sql
 IMMUTABLE
AS $function$
  -- Whether a movement from p_before to p_after may send a balance alert: one that lowered the
  -- balance and ended below the highest low-balance threshold that may apply (p_top_threshold,
  -- credit_take_settings(); null: none) or at 0 from above it. credit_balance_alerts() decides which
  -- it sends; a take whose movements all answer false makes no call. LANGUAGE sql and IMMUTABLE, so
  -- a caller's plan inlines it.
  SELECT COALESCE(p_after < p_before AND (p_after < p_top_threshold OR (p_before > 0 AND p_after <= 0)), false)
$function$;
