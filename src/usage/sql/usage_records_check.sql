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
  -- CHECK did (check_refused(): SQLSTATE 23514, naming the constraint), in the order PostgreSQL tries
  -- checks (by name).
  BEGIN
    IF NOT NEW.billing_status::text = ANY ('{billed,needs_review}'::text[]) THEN
      PERFORM check_refused('usage_records', 'usage_records_billing_status_check');
    END IF;
    IF NOT NEW.provider_cost >= 0 THEN
      PERFORM check_refused('usage_records', 'usage_records_provider_cost_check');
    END IF;
    IF NOT (NEW.provider_usage IS NOT NULL) = (NEW.usage_source::text = 'provider') THEN
      PERFORM check_refused('usage_records', 'usage_records_provider_usage_check');
    END IF;
    IF NOT NEW.resolution::text = ANY ('{write_off,collect}'::text[]) THEN
      PERFORM check_refused('usage_records', 'usage_records_resolution_check');
    END IF;
    IF NOT NEW.review_status::text = ANY ('{open,resolved}'::text[]) THEN
      PERFORM check_refused('usage_records', 'usage_records_review_status_check');
    END IF;
    IF NOT NEW.termination::text = ANY ('{completed,max_tokens,client_abort,upstream_error}'::text[]) THEN
      PERFORM check_refused('usage_records', 'usage_records_termination_check');
    END IF;
    IF NOT NEW.usage_source::text = ANY ('{provider,reported,estimated}'::text[]) THEN
      PERFORM check_refused('usage_records', 'usage_records_usage_source_check');
    END IF;
    RETURN NEW;
  END $function$;
