CREATE OR REPLACE FUNCTION public.accounts_for_user()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
  -- Every user has an account (kind user): made with the user's row, in its transaction, whoever
  -- inserts it (the token sync, a grant ahead of a login, a script).
  BEGIN
    INSERT INTO accounts (kind, user_id) VALUES ('user', NEW.user_id) ON CONFLICT (user_id) DO NOTHING;
    RETURN NULL;
  END $function$;
