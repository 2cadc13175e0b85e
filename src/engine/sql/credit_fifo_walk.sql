CREATE OR REPLACE FUNCTION public.credit_fifo_walk(p_remaining integer[], p_amount bigint)
 RETURNS integer[]
 LANGUAGE plpgsql
 IMMUTABLE
AS $function$
  -- The FIFO walk of every take: given the remaining credits of an account's live allocations in the
  -- order they are spent (credit_allocations_fifo()), what to take from each to collect p_amount, or
  -- as much of it as they hold. Answers one part per allocation touched, in that order (empty when
  -- p_amount is 0); what the parts leave short is the caller's overdraft or shortfall.
  DECLARE
    v_parts integer[] := '{}';
    v_left bigint := p_amount;
    v_part integer;
  BEGIN
    FOR i IN 1 .. COALESCE(cardinality(p_remaining), 0) LOOP
      EXIT WHEN v_left <= 0;
      v_part := LEAST(v_left, p_remaining[i]);
      v_parts[i] := v_part;
      v_left := v_left - v_part;
    END LOOP;
    RETURN v_parts;
  END $function$;
