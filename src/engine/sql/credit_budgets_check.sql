CREATE OR REPLACE FUNCTION public.credit_budgets_check()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
  -- The checks of a budget's settings (docs/budgets.md): its scope's kind, its period and its limit,
  -- on every insert and every update that sets one of them (trigger credit_budgets_check). A trigger
  -- and not CHECK constraints: PostgreSQL reads every CHECK of a table back from its stored text at
  -- each statement that writes the table, and a budgeted record's take writes its budgets' counters
  -- (credit_budgets.spent, whose own CHECK stays) with one UPDATE that sets none of these columns
  -- (docs/benchmarks.md "What budgets cost the record"). Each refuses as its CHECK did
  -- (check_refused(): SQLSTATE 23514, naming the constraint).
  BEGIN
    IF NOT NEW.scope_kind::text = ANY ('{project,tag,run,session}'::text[]) THEN
      PERFORM check_refused('credit_budgets', 'credit_budgets_scope_kind_check');
    END IF;
    IF NOT NEW.period::text = ANY ('{day,week,month,lifetime}'::text[]) THEN
      PERFORM check_refused('credit_budgets', 'credit_budgets_period_check');
    END IF;
    IF NOT NEW.credit_limit >= 0 THEN
      PERFORM check_refused('credit_budgets', 'credit_budgets_credit_limit_check');
    END IF;
    RETURN NEW;
  END $function$;
