CREATE OR REPLACE FUNCTION public.credit_cap_spend_add(p_kind character varying, p_subjects character varying[], p_accounts bigint[],
    p_period_start timestamp with time zone, p_deltas bigint[])
 RETURNS void
 LANGUAGE plpgsql
AS $function$
  -- Caps' spend counted: p_deltas[i] added to subject p_subjects[i]'s bucket starting at p_period_start
  -- (a key's period, credit_key_period_start(); a member's UTC day), of account p_accounts[i] (the
  -- org's account for a member, NULL for a key). A give-back is negative, on the bucket its hold
  -- counted in, and never takes a bucket below 0 (a bucket never counted stays absent: 0). One
  -- statement for every subject of a call (a take of many members' events counts them all at once;
  -- one call a member was a fifth of an organisation's records statement in PostgreSQL). Called by the
  -- takes, settlements and take-backs under the account's lock, so a counter moves one charge at a
  -- time with the decision that read it (a counter, never a wallet). A subject once a call.
  BEGIN
    IF 0 < ANY (p_deltas) THEN
      INSERT INTO credit_cap_spend AS s (subject_kind, subject_id, account_id, period_start, spent)
      SELECT p_kind, x.subject, COALESCE(x.account_id, 0), p_period_start, x.delta
        FROM unnest(p_subjects, p_accounts, p_deltas) AS x(subject, account_id, delta)
       WHERE x.delta > 0
      ON CONFLICT (subject_kind, subject_id, account_id, period_start) DO UPDATE SET spent = s.spent + EXCLUDED.spent;
    END IF;
    IF 0 > ANY (p_deltas) THEN
      -- (the LIMIT never cuts a row: the kept plan expects a row or so, a lookup by key, as the
      -- ledger writer's statements do)
      UPDATE credit_cap_spend s SET spent = GREATEST(s.spent + x.delta, 0)
        FROM (SELECT * FROM unnest(p_subjects, p_accounts, p_deltas) AS x(subject, account_id, delta)
               LIMIT cardinality(p_deltas)) x
       WHERE x.delta < 0 AND s.subject_kind = p_kind AND s.subject_id = x.subject
         AND s.account_id = COALESCE(x.account_id, 0) AND s.period_start = p_period_start;
    END IF;
  END $function$;
