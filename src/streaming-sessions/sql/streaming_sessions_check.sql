CREATE OR REPLACE FUNCTION public.streaming_sessions_check()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
  -- The checks of a streaming session but its counts and its estimate's split (trigger
  -- streaming_sessions_check, on an insert and on an update that sets a column they read): its status,
  -- its hold against its estimate and its refund, its expiry, the settlement's columns set together,
  -- and its record's extras. A trigger and not CHECK constraints: PostgreSQL reads every CHECK of a
  -- table back from its stored text and plans it at each statement that writes the table, and every
  -- initialize inserts a session and every settlement updates it (docs/benchmarks.md "The checks every
  -- statement reads"). The two checks made from the token kinds' list stay CHECKs. Each refuses as its
  -- CHECK did (check_refused(): SQLSTATE 23514, naming the constraint), in the order PostgreSQL tries
  -- checks (by name).
  BEGIN
    IF NOT NEW.allocated_credits >= NEW.estimated_credits THEN
      PERFORM check_refused('streaming_sessions', 'streaming_sessions_allocated_check');
    END IF;
    IF NOT NEW.expires_at > NEW.started_at THEN
      PERFORM check_refused('streaming_sessions', 'streaming_sessions_expiry_check');
    END IF;
    IF NOT jsonb_typeof(NEW.record_extras) = 'object' THEN
      PERFORM check_refused('streaming_sessions', 'streaming_sessions_record_extras_check');
    END IF;
    IF NOT NEW.refund <= NEW.allocated_credits THEN
      PERFORM check_refused('streaming_sessions', 'streaming_sessions_refund_within_hold_check');
    END IF;
    IF NOT num_nonnulls(NEW.settled_at, NEW.actual_credits, NEW.refund, NEW.shortfall, NEW.usage_record_id)
         = (CASE WHEN NEW.status::text = 'active' THEN 0 ELSE 5 END) THEN
      PERFORM check_refused('streaming_sessions', 'streaming_sessions_settled_check');
    END IF;
    IF NOT NEW.status::text = ANY ('{active,completed,failed,aborted,expired}'::text[]) THEN
      PERFORM check_refused('streaming_sessions', 'streaming_sessions_status_check');
    END IF;
    RETURN NEW;
  END $function$;
