CREATE OR REPLACE FUNCTION public.usage_events_claim(p_owner character varying, p_events jsonb)
 RETURNS TABLE(out_ord integer, out_event_id character varying, out_status character varying, out_usage_record_id uuid)
 LANGUAGE plpgsql
AS $function$
  -- The first part of a batch statement (docs/money.md "The batch take"): which events may apply.
  -- p_events: [{user_id, event_id?, id}] in the order they apply, `id` the record each would create.
  -- Per event: unknown_user (no account: nothing claimed), duplicate (its id was claimed in p_owner's
  -- namespace already; the record is the first one's) or new (the id now claimed for this record).
  DECLARE
    n integer;
    e_user varchar[]; e_event varchar[]; e_record uuid[]; e_known boolean[]; e_claimed boolean[];
    v_incomplete boolean; v_ids integer; v_distinct integer;
  BEGIN
    -- One statement reads the events and checks them (each statement costs its start-up, and records
    -- that arrive together send a few events at a time); which user is known is
    -- usage_events_unclaimed()'s rule.
    SELECT count(*)::int, array_agg(x.user_id ORDER BY x.out_ord), array_agg(x.out_event_id ORDER BY x.out_ord),
           array_agg(x.id ORDER BY x.out_ord), array_agg(x.out_status = 'new' ORDER BY x.out_ord),
           bool_or(x.user_id IS NULL OR x.id IS NULL), count(x.out_event_id)::int,
           count(DISTINCT x.out_event_id)::int
      INTO n, e_user, e_event, e_record, e_known, v_incomplete, v_ids, v_distinct
      FROM usage_events_unclaimed(p_events) x;
    IF n = 0 THEN RETURN; END IF;
    IF v_incomplete THEN
      RAISE EXCEPTION 'usage_events_claim: every event needs a user and a record id';
    END IF;
    IF v_distinct <> v_ids THEN
      RAISE EXCEPTION 'usage_events_claim: event ids must be unique within a batch';
    END IF;

    -- Claimed in id order, before the statement locks any account: a batch waiting for another's claim
    -- holds no account lock, and claims never wait in a cycle, so claiming cannot deadlock. An id
    -- already taken, by an earlier batch or one committing meanwhile, is a duplicate.
    IF v_ids = 0 THEN
      -- No event ids (records that arrive together): nothing to claim.
      e_claimed := array_fill(false, ARRAY[n]);
    ELSE
    WITH claimed AS (
      INSERT INTO usage_event_ids (owner, event_id, usage_record_id)
      SELECT p_owner, e.event_id, e.id
        FROM unnest(e_event, e_record, e_known) AS e(event_id, id, known)
       WHERE e.event_id IS NOT NULL AND e.known
       ORDER BY e.event_id
      ON CONFLICT (owner, event_id) DO NOTHING
      RETURNING event_id)
    SELECT array_agg(c.event_id IS NOT NULL ORDER BY e.ord) INTO e_claimed
      FROM unnest(e_event) WITH ORDINALITY AS e(event_id, ord)
      LEFT JOIN claimed c ON c.event_id = e.event_id;
    END IF;

    -- A statement of its own, so a duplicate's first record is read in a snapshot that sees the batch
    -- that claimed it and committed while this one waited. Read by key for the duplicates only: a
    -- join here read every id of the owner (a hash join over all of them) at every batch.
    RETURN QUERY
      SELECT e.ord::int, e.event_id,
             (CASE WHEN NOT e.known THEN 'unknown_user'
                   WHEN e.event_id IS NULL OR e.claimed THEN 'new'
                   ELSE 'duplicate' END)::varchar,
             CASE WHEN NOT e.known THEN NULL
                  WHEN e.event_id IS NULL OR e.claimed THEN e.id
                  ELSE (SELECT f.usage_record_id FROM usage_event_ids f WHERE f.owner = p_owner AND f.event_id = e.event_id)
             END
        FROM unnest(e_event, e_record, e_known, e_claimed) WITH ORDINALITY AS e(event_id, id, known, claimed, ord)
       ORDER BY e.ord;
  END $function$;
