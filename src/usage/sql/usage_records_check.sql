CREATE OR REPLACE FUNCTION public.usage_records_check()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
  -- The checks of a usage record but its counts (trigger usage_records_check, on an insert and on an
  -- update that sets a column they read): its provider cost, billing and review states, resolution,
  -- usage source with the provider's usage, and termination. A trigger and not CHECK constraints:
  -- PostgreSQL reads every CHECK of a table back from its stored text and plans it at each statement
  -- that writes the table, and every record inserts one (docs/benchmarks.md "The checks every statement
  -- reads"). The counts' check stays a CHECK, made from the token kinds' list. Each refuses as its
  -- CHECK did: SQLSTATE 23514, naming the constraint, in the order PostgreSQL tries checks (by name).
  BEGIN
    IF NOT NEW.billing_status::text = ANY ('{billed,needs_review}'::text[]) THEN
      RAISE EXCEPTION 'new row for relation "usage_records" violates check constraint "usage_records_billing_status_check"'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'usage_records_billing_status_check', TABLE = 'usage_records';
    END IF;
    IF NOT NEW.provider_cost >= 0 THEN
      RAISE EXCEPTION 'new row for relation "usage_records" violates check constraint "usage_records_provider_cost_check"'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'usage_records_provider_cost_check', TABLE = 'usage_records';
    END IF;
    IF NOT (NEW.provider_usage IS NOT NULL) = (NEW.usage_source::text = 'provider') THEN
      RAISE EXCEPTION 'new row for relation "usage_records" violates check constraint "usage_records_provider_usage_check"'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'usage_records_provider_usage_check', TABLE = 'usage_records';
    END IF;
    IF NOT NEW.resolution::text = ANY ('{write_off,collect}'::text[]) THEN
      RAISE EXCEPTION 'new row for relation "usage_records" violates check constraint "usage_records_resolution_check"'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'usage_records_resolution_check', TABLE = 'usage_records';
    END IF;
    IF NOT NEW.review_status::text = ANY ('{open,resolved}'::text[]) THEN
      RAISE EXCEPTION 'new row for relation "usage_records" violates check constraint "usage_records_review_status_check"'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'usage_records_review_status_check', TABLE = 'usage_records';
    END IF;
    IF NOT NEW.termination::text = ANY ('{completed,max_tokens,client_abort,upstream_error}'::text[]) THEN
      RAISE EXCEPTION 'new row for relation "usage_records" violates check constraint "usage_records_termination_check"'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'usage_records_termination_check', TABLE = 'usage_records';
    END IF;
    IF NOT NEW.usage_source::text = ANY ('{provider,reported,estimated}'::text[]) THEN
      RAISE EXCEPTION 'new row for relation "usage_records" violates check constraint "usage_records_usage_source_check"'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'usage_records_usage_source_check', TABLE = 'usage_records';
    END IF;
    RETURN NEW;
  END $function$;
