CREATE OR REPLACE FUNCTION public.credits_hold(p_account_id bigint, p_amount integer, p_session_id character varying, p_created_by character varying, p_api_key_id uuid, p_rate_default integer, p_thresholds integer[], p_member_id character varying DEFAULT NULL::character varying, p_scopes jsonb DEFAULT NULL::jsonb)
 RETURNS TABLE(out_status character varying, out_available bigint, out_headroom bigint, out_collected bigint, out_debt bigint, out_balance_after bigint, out_parts jsonb, out_retry_after integer)
 LANGUAGE plpgsql
AS $function$
  DECLARE
    t record;
  -- A hold on account p_account_id. An organisation's hold names the member (p_member_id; null for a
  -- user's account): it counts against their limit like a
  -- debit (credits_take_events()), and its settlement gives the unused part back off their counter; the
  -- hold row names the member as its member_id, as the ledger lines do. A hold naming budget scopes
  -- (p_scopes, docs/budgets.md) counts as held against their budgets; its row keeps them and the
  -- budgets it counted against, with their periods, so its settlement gives the unused part back.
  BEGIN
    IF p_session_id IS NULL THEN
      RAISE EXCEPTION 'credits_hold: a hold needs a session';
    END IF;
    -- The one take, a batch of one strict hold.
    SELECT * INTO t FROM credits_take_events(p_created_by, p_api_key_id, p_rate_default, p_thresholds, ARRAY[p_account_id],
                                             ARRAY[p_amount], ARRAY[NULL::uuid], ARRAY[p_member_id],
                                             ARRAY['hold'], ARRAY['strict'], ARRAY[p_session_id],
                                             p_scopes => CASE WHEN p_scopes IS NOT NULL THEN ARRAY[p_scopes] END);
    IF t.out_status = 'ok' THEN
      -- The key the hold was made through (its settlement's lines and overrun are the key's too), and
      -- the key's period as the take just counted it, so a settlement gives the unused part back
      -- to that period only (a hold without a key reads no counter).
      -- The hold row, in two statements by whether the hold names budget scopes: one statement for
      -- both planned every call afresh (its custom plan drops the budgets' walk when p_scopes is
      -- null, and PL/pgSQL keeps a generic plan only while it costs no more), about a tenth of a
      -- gateway hold's time in the planner. An organisation's session ids are its members' (unique per
      -- member, not per account): a hold row of the org for this id is another member's session (or
      -- an earlier one), never topped up.
      IF p_scopes IS NULL THEN
        INSERT INTO credit_holds AS h (session_id, account_id, member_id, outstanding, api_key_id, key_period_start)
        SELECT p_session_id, a.account_id, COALESCE(a.user_id, p_member_id), p_amount, p_api_key_id,
               CASE WHEN p_api_key_id IS NOT NULL
                    THEN (SELECT max(s.period_start) FROM credit_cap_spend s
                           WHERE s.subject_kind = 'key' AND s.subject_id = p_api_key_id::varchar AND s.account_id = 0) END
          FROM accounts a
         WHERE a.account_id = p_account_id
        ON CONFLICT (session_id, account_id) DO UPDATE SET outstanding = h.outstanding + EXCLUDED.outstanding
         WHERE h.settled_at IS NULL AND p_member_id IS NULL;
      ELSE
        INSERT INTO credit_holds AS h (session_id, account_id, member_id, outstanding, api_key_id, key_period_start, scopes,
                                       budget_ids, budget_starts)
        SELECT p_session_id, a.account_id, COALESCE(a.user_id, p_member_id), p_amount, p_api_key_id,
               CASE WHEN p_api_key_id IS NOT NULL
                    THEN (SELECT max(s.period_start) FROM credit_cap_spend s
                           WHERE s.subject_kind = 'key' AND s.subject_id = p_api_key_id::varchar AND s.account_id = 0) END,
               p_scopes, b.ids, b.starts
          FROM accounts a
          -- the budgets the take counted the hold against (credit_budget_caps(), the take's own walk), in its order
          LEFT JOIN LATERAL (SELECT array_agg(c.out_id[x.k] ORDER BY x.o) AS ids, array_agg(c.out_start[x.k] ORDER BY x.o) AS starts
                               FROM credit_budget_caps(ARRAY[p_account_id], ARRAY[p_scopes]) c
                              CROSS JOIN LATERAL unnest(c.out_caps) WITH ORDINALITY AS x(k, o)) b ON p_scopes IS NOT NULL
         WHERE a.account_id = p_account_id
        ON CONFLICT (session_id, account_id) DO UPDATE SET outstanding = h.outstanding + EXCLUDED.outstanding
         WHERE h.settled_at IS NULL AND p_member_id IS NULL;
      END IF;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'credits_hold: session % of % has a hold already', p_session_id, p_account_id
          USING ERRCODE = 'unique_violation';
      END IF;
      -- A member's open session counts at least one credit against their limit while it is open (its
      -- settlement gives it back, credits_settle()): zero-estimate sessions would otherwise all pass a
      -- used-up limit's check together and each overrun it at settlement.
      IF p_amount = 0 AND p_member_id IS NOT NULL THEN
        PERFORM credit_cap_spend_add('member', ARRAY[p_member_id], ARRAY[p_account_id],
                                     date_trunc('day', now(), 'UTC'), ARRAY[1::bigint]);
      END IF;
    END IF;
    out_status := t.out_status; out_available := t.out_available; out_headroom := t.out_headroom;
    out_collected := t.out_collected; out_debt := t.out_debt;
    out_balance_after := CASE WHEN t.out_status = 'ok' THEN t.out_balance ELSE t.out_available END;
    out_parts := t.out_parts; out_retry_after := t.out_retry_after;
    RETURN NEXT;
  END $function$;
