CREATE OR REPLACE FUNCTION public.credit_allocations_check()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
  -- The checks of an allocation (trigger credit_allocations_check, on an insert and on an update that
  -- sets a column they read): its size and what is left of it, its source with the plan or purchase it
  -- names (an unknown source breaks the plan check, which PostgreSQL always named before the source's
  -- own check: that one is not kept), and its money. A trigger and not CHECK constraints: PostgreSQL
  -- reads every CHECK of a table back from its stored text and plans it at each statement that writes
  -- the table, and every take updates what is left (docs/benchmarks.md "The checks every statement
  -- reads"). Each refuses as its CHECK did (check_refused(): SQLSTATE 23514, naming the constraint),
  -- in the order PostgreSQL tries checks (by name).
  BEGIN
    IF NOT ((NEW.source::text = ANY ('{manual,transfer,purchase,promotion,signup,correction,volume}'::text[])
             AND NEW.subscription_id IS NULL AND NEW.plan_id IS NULL AND NEW.period_start IS NULL)
         OR (NEW.source::text = ANY ('{plan,rollover}'::text[])
             AND NEW.subscription_id IS NOT NULL AND NEW.plan_id IS NOT NULL AND NEW.period_start IS NOT NULL)) THEN
      PERFORM check_refused('credit_allocations', 'credit_allocations_plan_check');
    END IF;
    IF NOT (NEW.source::text = 'purchase') = (NEW.purchase_id IS NOT NULL) THEN
      PERFORM check_refused('credit_allocations', 'credit_allocations_purchase_check');
    END IF;
    IF NOT (0 <= NEW.remaining_credits AND NEW.remaining_credits <= NEW.total_credits) THEN
      PERFORM check_refused('credit_allocations', 'credit_allocations_remaining_check');
    END IF;
    IF NOT NEW.total_credits >= 1 THEN
      PERFORM check_refused('credit_allocations', 'credit_allocations_total_check');
    END IF;
    IF NOT ((NEW.value_minor IS NULL AND NEW.value_remaining_minor IS NULL AND NEW.currency IS NULL)
         OR (NEW.value_minor >= 0 AND NEW.value_remaining_minor BETWEEN 0 AND NEW.value_minor
             AND NEW.currency::text ~ '^[a-z]{3}$')) THEN
      PERFORM check_refused('credit_allocations', 'credit_allocations_value_check');
    END IF;
    RETURN NEW;
  END $function$;
