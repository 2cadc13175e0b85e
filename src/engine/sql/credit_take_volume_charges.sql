CREATE OR REPLACE FUNCTION public.credit_take_volume_charges(p_charges jsonb[], p_usage_records uuid[], p_created_bys character varying[],
    p_created_by character varying, p_api_key_id uuid)
 RETURNS integer
 LANGUAGE plpgsql
AS $function$
  -- The volume tail of a take (credits_take_events()), after its ledger lines: the charges it let
  -- through (p_charges[i], credit_take_volume()'s for event i, null where none), in event order, kept
  -- by credit_volume_charges() (the periods' totals, the lines' money, the give-backs), each with its
  -- event's usage record and writer (p_created_bys[i], else p_created_by).
  DECLARE
    v_kept integer;
  BEGIN
    SELECT credit_volume_charges(
      array_agg((c ->> 'account')::bigint ORDER BY k), array_agg(c ->> 'model' ORDER BY k), array_agg(c ->> 'mode' ORDER BY k),
      array_agg((c ->> 'start')::timestamptz ORDER BY k), array_agg((c ->> 'end')::timestamptz ORDER BY k),
      array_agg((c ->> 'tokens')::bigint ORDER BY k), array_agg((c ->> 'base')::numeric ORDER BY k), array_agg((c ->> 'cost')::numeric ORDER BY k),
      array_agg((c ->> 'give')::int ORDER BY k), array_agg((c ->> 'expires')::timestamptz ORDER BY k), array_agg(p_usage_records[k] ORDER BY k),
      NULL, p_created_by, p_api_key_id, array_agg(p_created_bys[k] ORDER BY k))
      INTO v_kept
      FROM unnest(p_charges) WITH ORDINALITY AS x(c, k)
     WHERE c IS NOT NULL;
    RETURN v_kept;
  END $function$;
