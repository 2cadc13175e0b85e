CREATE OR REPLACE FUNCTION public.credits_settle(p_account_id bigint, p_session_id character varying, p_charge integer, p_created_by character varying,
    p_usage_record_id uuid, p_rate_default integer, p_thresholds integer[], p_member_id character varying DEFAULT NULL::character varying,
    p_volume jsonb DEFAULT NULL::jsonb)
 RETURNS TABLE(out_status character varying, out_held bigint, out_kept bigint, out_refund bigint, out_collected bigint, out_debt bigint, out_shortfall bigint,
    out_released bigint, out_expired bigint, out_voided bigint, out_charge integer, out_volume_step integer)
 LANGUAGE plpgsql
AS $function$
  DECLARE
    h record;
    t record;
    v_overrun bigint;
    v_cut bigint := 0;
    v_for_review bigint := 0;
    v_collected bigint := 0;
    v_debt bigint := 0;
    v_account bigint := p_account_id;
    v_member varchar := p_member_id;
    v_scopes jsonb;
    v_charge integer := p_charge;
    vp record;
    v_kept integer;
  BEGIN
    -- The account locked once, for the whole settlement (credits_settle_hold() and the volume price
    -- run under it). On a rule with volume steps (p_volume, as credits_take_events() takes it) the
    -- charge is the stepped price of the settlement's tokens, decided under the lock against the
    -- period total (credit_volume_price()), like a record's: p_charge is then ignored. The lock of
    -- credits_lock_account_ids() taken by key, as a take of one account takes it
    -- (credit_take_accounts()): through that function it was two statements.
    PERFORM 1 FROM accounts a WHERE a.account_id = v_account FOR NO KEY UPDATE OF a;
    IF p_volume IS NOT NULL THEN
      vp := credit_volume_price(v_account, p_volume);
      v_charge := vp.out_amount;
    END IF;
    -- The session of account p_account_id. An organisation's session names its member (p_member_id;
    -- null for a user's account): what the hold gives back comes off the member's counter on the day
    -- the hold counted, and the overrun counts like a debit (credits_take_events()).
    -- The hold settled first (credits_settle_hold(): the hold read once, what it
    -- kept beyond the charge given back). A session without a hold row (one that held nothing before
    -- every initialize wrote one): its whole charge is the overrun.
    SELECT * INTO h FROM credits_settle_hold(v_account, p_session_id, v_charge, p_created_by, p_usage_record_id, v_member);
    IF h.out_status NOT IN ('ok', 'no_hold') THEN
      out_status := h.out_status; out_held := 0; out_kept := 0; out_refund := 0; out_collected := 0; out_debt := 0;
      out_shortfall := 0; out_released := 0; out_expired := 0; out_voided := 0; out_charge := v_charge;
      RETURN NEXT;
      RETURN;
    ELSIF h.out_status = 'ok' THEN
      -- Credits a refund or a lost dispute took back from this hold (credits_take_back()): the session
      -- settles against what is left, and what it used of them is a shortfall for review, never taken
      -- from the account's other credits behind the reviewer's back.
      v_cut := h.out_taken_back;
      -- A hold of 0 counted one credit against the member's limit while open (credits_hold()): back.
      IF v_member IS NOT NULL AND (h.out_refund > 0 OR (h.out_held = 0 AND v_cut = 0)) THEN
        PERFORM credit_cap_spend_add('member', ARRAY[v_member], ARRAY[v_account], date_trunc('day', h.out_held_at, 'UTC'),
                                     ARRAY[CASE WHEN h.out_held = 0 AND v_cut = 0 THEN -1 ELSE -h.out_refund END]::bigint[]);
      END IF;
    END IF;
    -- The overrun is owed, not asked: neither the key budget nor the spend rate refuses it (up_to),
    -- and it counts against the key the hold counted against.
    v_overrun := v_charge - (h.out_held - h.out_refund);
    v_for_review := LEAST(GREATEST(v_overrun, 0), v_cut);
    v_overrun := v_overrun - v_for_review;
    -- A member removed while the session was open (sessions=drain) settles it, but the org pays at
    -- most the hold it agreed to: what the session used beyond it is a shortfall for review.
    IF v_member IS NOT NULL AND v_overrun > 0 AND org_member_role(account_org_id(v_account), v_member) IS NULL THEN
      v_for_review := v_for_review + v_overrun;
      v_overrun := 0;
    END IF;
    IF v_overrun > 0 THEN
      -- The overrun counts against the budgets the hold's scopes name (docs/budgets.md), never refused.
      IF h.out_status = 'ok' THEN
        SELECT c.scopes INTO v_scopes FROM credit_holds c WHERE c.session_id = p_session_id AND c.account_id = v_account;
      END IF;
      SELECT * INTO t FROM credits_take_events(p_created_by, h.out_api_key_id, p_rate_default, p_thresholds,
                                               ARRAY[v_account], ARRAY[v_overrun::int], ARRAY[p_usage_record_id],
                                               ARRAY[v_member], ARRAY['debit'], ARRAY['up_to'],
                                               ARRAY[p_session_id],
                                               p_scopes => CASE WHEN v_scopes IS NOT NULL THEN ARRAY[v_scopes] END);
      v_collected := t.out_collected;
      v_debt := t.out_debt;
    END IF;
    out_status := 'ok'; out_held := h.out_held; out_kept := h.out_held - h.out_refund; out_refund := h.out_refund;
    out_collected := v_collected; out_debt := v_debt;
    out_shortfall := GREATEST(v_overrun, 0) - v_collected - v_debt + v_for_review;
    out_released := h.out_released; out_expired := h.out_expired; out_voided := h.out_voided;
    out_charge := v_charge;
    IF p_volume IS NOT NULL THEN -- the volume tail, a batch of one: the period's total, the lines' money, the give-back
      out_volume_step := vp.out_step;
      v_kept := credit_volume_charges(ARRAY[v_account], ARRAY[p_volume ->> 'model'], ARRAY[p_volume ->> 'mode'],
                                      ARRAY[vp.out_period_start], ARRAY[vp.out_period_end], ARRAY[vp.out_tokens],
                                      ARRAY[vp.out_base], ARRAY[vp.out_cost], ARRAY[vp.out_give_back], ARRAY[vp.out_expires],
                                      ARRAY[p_usage_record_id], ARRAY[p_session_id], p_created_by, h.out_api_key_id);
    END IF;
    RETURN NEXT;
  END $function$;
