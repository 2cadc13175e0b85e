CREATE OR REPLACE FUNCTION public.credit_take_volume(p_account_id bigint, p_volume jsonb, p_charges jsonb[], OUT out_amount integer, OUT out_step integer,
    OUT out_charge jsonb)
 RETURNS record
 LANGUAGE plpgsql
 STABLE
AS $function$
  -- An event's volume steps in a take (credits_take_events()): its amount decided under the lock by
  -- credit_volume_price() against the period's total for the model, after the charges the take let
  -- through before it (p_charges, one per event, null where none: not kept yet, so passed as
  -- p_volume.before, those of the same account and model in their order). Answers the amount, the
  -- step and the charge to keep if the event is let through (credit_take_volume_charges() keeps them).
  DECLARE
    vp record;
    v_volume jsonb := p_volume;
  BEGIN
    IF EXISTS (SELECT 1 FROM unnest(p_charges) c WHERE (c ->> 'account')::bigint = p_account_id) THEN
      v_volume := v_volume || jsonb_build_object('before', (
        SELECT jsonb_agg(jsonb_build_object('start', c -> 'start', 'tokens', c -> 'tokens', 'base', c -> 'base', 'cost', c -> 'cost') ORDER BY k)
          FROM unnest(p_charges) WITH ORDINALITY AS x(c, k)
         WHERE (c ->> 'account')::bigint = p_account_id AND c ->> 'model' = p_volume ->> 'model'));
    END IF;
    vp := credit_volume_price(p_account_id, v_volume);
    out_amount := vp.out_amount; out_step := vp.out_step;
    out_charge := jsonb_build_object('account', p_account_id, 'model', p_volume ->> 'model', 'mode', p_volume ->> 'mode',
                                     'start', vp.out_period_start, 'end', vp.out_period_end, 'tokens', vp.out_tokens, 'base', vp.out_base,
                                     'cost', vp.out_cost, 'give', vp.out_give_back, 'expires', vp.out_expires);
  END $function$;
