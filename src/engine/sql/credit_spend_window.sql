CREATE OR REPLACE FUNCTION public.credit_spend_window(p_window integer[], p_window_minute bigint, p_minute bigint)
 RETURNS integer[]
 LANGUAGE plpgsql
 IMMUTABLE
AS $function$
  -- An account's hourly spend window (credit_accounts.spend_window: 60 one-minute buckets, slot
  -- (m % 60) + 1 holds minute m, the newest written at spend_minute) as it stands at minute p_minute:
  -- a slot whose latest minute up to p_minute (p_minute - ((p_minute - slot + 1) % 60)) comes after
  -- the newest bucket holds spend from an hour or more ago and counts 0. Its sum is what the account
  -- spent in the last hour.
  --
  -- A written window (60 slots from 1, as credit_accounts keeps it) is copied and the slots of the
  -- minutes since its newest bucket are cleared: at most 60 assignments, usually none or one, under
  -- the account lock of every take. Any other shape (none yet, NULL slots aside) takes the slot-by-slot
  -- definition; both give the same answer (test/credit-spend-window.int-spec.ts holds them to it).
  DECLARE
    w integer[];
  BEGIN
    IF p_window_minute >= 0 AND array_lower(p_window, 1) = 1 AND array_upper(p_window, 1) = 60 THEN
      w := array_replace(p_window, NULL, 0);
      FOR m IN p_window_minute + 1 .. LEAST(p_minute, p_window_minute + 60) LOOP
        w[(m % 60) + 1] := 0;
      END LOOP;
      RETURN w;
    END IF;
    RETURN (SELECT array_agg(CASE WHEN p_window IS NULL OR p_minute - ((p_minute - (s.slot - 1)) % 60) > p_window_minute
                                  THEN 0 ELSE COALESCE(p_window[s.slot], 0) END ORDER BY s.slot)
              FROM generate_series(1, 60) AS s(slot));
  END $function$;
