CREATE OR REPLACE FUNCTION public.org_member_spend_add(p_org_id character varying, p_user_id character varying, p_day date, p_delta bigint)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
  -- A member's spend from their organisation counted (org_member_spend, one row per UTC day): p_delta
  -- added to p_day's row (a give-back, negative, on the day its hold counted; never below 0). Called
  -- by the takes under the organisation account's lock, so a member's counter moves one charge at a
  -- time, with the decision that read it (STYLE "One pool, many caps": a counter, never a wallet).
  BEGIN
    INSERT INTO org_member_spend AS s (org_id, user_id, day, spent)
    VALUES (p_org_id, p_user_id, p_day, GREATEST(p_delta, 0))
    ON CONFLICT (org_id, user_id, day) DO UPDATE SET spent = GREATEST(s.spent + p_delta, 0);
  END $function$;
