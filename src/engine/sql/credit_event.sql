CREATE OR REPLACE FUNCTION public.credit_event(p_type character varying, p_account_id bigint, p_data jsonb)
 RETURNS uuid
 LANGUAGE plpgsql
AS $function$
  -- The one way the engine tells of what happened to an account (docs/webhooks.md "Events"): the
  -- event names the account as every event of an account does, a user's as {userId}, an
  -- organisation's as {userId: null, orgId}, beside p_data; the outbox row's user_id is the account's
  -- user (null for an organisation). Every movement's event goes through it, in the movement's
  -- transaction, so a user's and an organisation's events cannot drift apart.
  DECLARE
    v_user varchar;
    v_org varchar;
  BEGIN
    SELECT a.user_id, a.org_id INTO v_user, v_org FROM accounts a WHERE a.account_id = p_account_id;
    RETURN emit_event(p_type, v_user,
             CASE WHEN v_org IS NULL THEN jsonb_build_object('userId', v_user)
                  ELSE jsonb_build_object('userId', NULL, 'orgId', v_org) END || p_data);
  END $function$;
