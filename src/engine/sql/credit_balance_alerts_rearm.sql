CREATE OR REPLACE FUNCTION public.credit_balance_alerts_rearm(p_account_id bigint, p_balance bigint)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
      -- After a grant, at the balance it left: arms the user's balance alerts again for every
      -- threshold at or below that balance (credit_balance_alerts() says which are armed). Only a
      -- grant: a released hold gives back what a hold took, and arming on it would let a user send
      -- balance.low at will by holding and aborting.
      BEGIN
        UPDATE credit_accounts c SET alerts_armed_up_to = p_balance, updated_at = now()
         WHERE c.account_id = p_account_id AND c.alerts_armed_up_to < p_balance;
      END $function$;
