CREATE OR REPLACE FUNCTION public.email_notifications_queue()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
  -- Queues an event's emails in the event's own transaction (the trigger fires only for the kinds
  -- that email, docs/notifications.md): one row per recipient, unique per event and recipient. The
  -- member on org.member_limit_reached; for an organisation's account its owners and billing
  -- members; else the user the event is about. Whether a row is sent (the user's preference, an
  -- address) is decided when the worker makes the email, after commit.
  DECLARE
    v_user varchar := NEW.data->>'userId';
    v_org varchar := NEW.data->>'orgId';
  BEGIN
    IF NEW.type <> 'org.member_limit_reached' AND v_org IS NOT NULL THEN
      INSERT INTO email_notifications (event_id, user_id, kind)
        SELECT NEW.id, m.user_id, NEW.type FROM org_members m
         WHERE m.org_id = v_org AND m.role IN ('owner', 'billing')
        ON CONFLICT DO NOTHING;
    ELSIF v_user IS NOT NULL THEN
      INSERT INTO email_notifications (event_id, user_id, kind)
        SELECT NEW.id, u.user_id, NEW.type FROM user_accounts u WHERE u.user_id = v_user
        ON CONFLICT DO NOTHING;
    END IF;
    -- Delivered at commit only, once per transaction: the workers wake then.
    IF FOUND THEN
      PERFORM pg_notify('email_notifications', '');
    END IF;
    RETURN NULL;
  END $function$;
