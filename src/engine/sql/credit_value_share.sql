CREATE OR REPLACE FUNCTION public.credit_value_share(p_value bigint, p_credits bigint, p_of bigint)
 RETURNS bigint
 LANGUAGE sql
 IMMUTABLE
AS $function$
  -- The money rule (docs/finance.md): p_credits of a lot's p_of credits left take floor(value × n / R)
  -- of its p_value minor units left, all of it when they are all the credits left, so what leaves a
  -- lot over its life adds up to its value exactly. Null for a promotional lot (no value).
  SELECT CASE WHEN p_value IS NULL THEN NULL
              WHEN p_credits >= p_of THEN p_value
              ELSE floor(p_value::numeric * p_credits / p_of)::bigint END
$function$;
