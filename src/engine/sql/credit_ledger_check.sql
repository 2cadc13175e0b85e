CREATE OR REPLACE FUNCTION public.credit_ledger_check()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
  -- The checks of a ledger line (trigger credit_ledger_check, on every insert; a line is never
  -- updated): its kind, the sign its kind takes, its category, an allocation unless it is debt, and
  -- money with its currency. A trigger and not CHECK constraints: PostgreSQL reads every CHECK of a
  -- table back from its stored text and plans it at each statement that writes the table, a sixth of a
  -- lone record's work (docs/benchmarks.md "The checks every statement reads"). Each refuses as its
  -- CHECK did (check_refused(): SQLSTATE 23514, naming the constraint), in the order PostgreSQL tries
  -- checks (by name).
  BEGIN
    IF NOT (NEW.kind::text = ANY ('{overdraft,debt}'::text[])) = (NEW.allocation_id IS NULL) THEN
      PERFORM check_refused('credit_ledger', 'credit_ledger_allocation_check');
    END IF;
    IF NOT NEW.category::text = ANY ('{purchased,sold,granted,recognized,expired,refunded,charged_back,voided,'
                                     'transferred_in,transferred_out,corrected}'::text[]) THEN
      PERFORM check_refused('credit_ledger', 'credit_ledger_category_check');
    END IF;
    IF NOT NEW.kind::text = ANY ('{grant,debit,hold,release,expire,void,rollover,repay,overdraft,transfer_out,transfer_in,'
                                 'refund,debt,freeze,unfreeze,correction,volume_adjustment}'::text[]) THEN
      PERFORM check_refused('credit_ledger', 'credit_ledger_kind_check');
    END IF;
    IF NOT (CASE WHEN NEW.kind::text = 'correction' THEN true
                 WHEN NEW.kind::text = ANY ('{grant,release,transfer_in,unfreeze,volume_adjustment}'::text[]) THEN NEW.amount >= 0
                 ELSE NEW.amount <= 0 END) THEN
      PERFORM check_refused('credit_ledger', 'credit_ledger_sign_check');
    END IF;
    IF NOT (NEW.value_minor IS NULL) = (NEW.currency IS NULL) THEN
      PERFORM check_refused('credit_ledger', 'credit_ledger_value_check');
    END IF;
    RETURN NEW;
  END $function$;
