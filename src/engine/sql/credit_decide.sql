CREATE OR REPLACE FUNCTION public.credit_decide(p_strict boolean, p_amount bigint, p_ask bigint, p_cap_codes character varying[], p_cap_used bigint[],
    p_cap_limits bigint[], p_available bigint, p_headroom bigint)
 RETURNS character varying
 LANGUAGE plpgsql
 IMMUTABLE
AS $function$
  -- Whether a charge may happen: the one decision of the single take, the batch (per event), the
  -- hold and the settlement's overrun (docs/money.md "One decision"). Answers 'ok', the code of the
  -- first cap that refuses, or 'insufficient'.
  --
  -- The caps are limits with counters, checked in the order given: cap i refuses when it has a limit
  -- (p_cap_limits[i] not NULL) and p_cap_used[i] + p_ask exceeds it. Today a key's budget
  -- ('key_limit') then the account's hourly window ('rate_limited'); an organisation adds its own
  -- window and the member's limit to the same list. p_ask is what the caps must leave room for: the
  -- amount, or at least one credit for a hold. A charge that asks nothing (a 0-credit record) is
  -- never refused by a cap, even one already past its limit: it adds nothing to any counter. Then the
  -- balance: p_available plus the overdraft headroom must cover p_amount.
  --
  -- Only strict charges are decided; an up_to overrun or a collected shortfall is owed and always
  -- 'ok' (the take then collects what the balance and headroom allow).
  BEGIN
    IF NOT p_strict THEN
      RETURN 'ok';
    END IF;
    IF p_ask > 0 THEN
      FOR i IN 1 .. COALESCE(cardinality(p_cap_codes), 0) LOOP
        IF p_cap_limits[i] IS NOT NULL AND p_cap_used[i] + p_ask > p_cap_limits[i] THEN
          RETURN p_cap_codes[i];
        END IF;
      END LOOP;
    END IF;
    IF p_available + p_headroom < p_amount THEN
      RETURN 'insufficient';
    END IF;
    RETURN 'ok';
  END $function$;
