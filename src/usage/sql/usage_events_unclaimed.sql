CREATE OR REPLACE FUNCTION public.usage_events_unclaimed(p_events jsonb)
 RETURNS TABLE(out_ord integer, out_event_id character varying, out_status character varying, out_usage_record_id uuid, user_id character varying, id uuid)
 LANGUAGE sql
 STABLE
AS $function$
  -- The events of a batch statement as they stand before any event id is claimed (docs/money.md
  -- "The batch take"), in the order they apply: unknown_user (no account) or new. The batch's
  -- `events` part when no event carries an id, and what usage_events_claim() reads when some do.
  -- LANGUAGE sql and STABLE, so PostgreSQL inlines it into the statement that reads it: a record
  -- without an eventId pays for no PL/pgSQL call. `user_id` and `id` are the event's as sent.
  SELECT x.ord::int, x.event_id,
         (CASE WHEN k.known THEN 'new' ELSE 'unknown_user' END)::varchar,
         CASE WHEN k.known THEN x.id END, x.user_id, x.id
    FROM ROWS FROM (jsonb_to_recordset(p_events) AS (user_id varchar, event_id varchar, id uuid))
         WITH ORDINALITY AS x(user_id, event_id, id, ord)
   -- A lookup by key per event, a scalar subquery: an EXISTS (or a join) was planned, in the generic plan
   -- of the statement it is inlined into, as a scan of every user, hashed, at every call. OFFSET 0 keeps
   -- it one lookup: pulled up, the subquery was copied into both columns that read `known`, two index
   -- scans an event (docs/benchmarks.md "The record alone, counted").
   CROSS JOIN LATERAL (SELECT (SELECT true FROM user_accounts a WHERE a.user_id = x.user_id) IS NOT NULL AS known OFFSET 0) k
$function$;
