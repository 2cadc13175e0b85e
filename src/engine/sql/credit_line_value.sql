CREATE OR REPLACE FUNCTION public.credit_line_value(p_left bigint, p_credits bigint, p_amount integer, p_kind character varying, p_told bigint, p_value bigint)
 RETURNS bigint
 LANGUAGE sql
 IMMUTABLE
AS $function$
  -- The money a ledger line of p_amount credits moves on a valued allocation that has p_credits
  -- credits and p_left minor units left before it (docs/finance.md "The money rule"): what its caller
  -- says (p_told); else credits leaving take their share of the money left (credit_value_share()), a
  -- grant, a transfer's arrival or a volume give-back fills its new lot with the lot's value (p_value). Null: credits
  -- coming back without their money, which credit_ledger_write() refuses. LANGUAGE sql, so it inlines.
  SELECT CASE WHEN p_told IS NOT NULL THEN p_told
              WHEN p_amount <= 0 THEN -credit_value_share(p_left, -p_amount, p_credits)
              WHEN p_kind IN ('grant', 'transfer_in', 'volume_adjustment') THEN p_value END
$function$;
