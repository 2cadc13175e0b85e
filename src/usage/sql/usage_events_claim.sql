CREATE OR REPLACE FUNCTION public.usage_events_claim(p_owner character varying, p_events jsonb)
 RETURNS TABLE(out_ord integer, out_event_id character varying, out_status character varying, out_usage_record_id uuid)
 LANGUAGE plpgsql
AS $function$
  -- The first part of a batch statement (docs/money.md "The batch take"): which events may apply.
  -- p_events: [{user_id, event_id?, id, owner?}] in the order they apply, `id` the record each would
  -- create. An event's id is claimed in p_owner's namespace, or with p_owner null (records of many
  -- writers that arrive together) in the event's own `owner`'s. Per event: unknown_user (no account:
  -- nothing claimed), duplicate (its id was claimed in that namespace already; the record is the
  -- first one's) or new (the id now claimed for this record).
  DECLARE
    n integer;
    e_user varchar[]; e_event varchar[]; e_record uuid[]; e_known boolean[]; e_claimed boolean[]; e_owner varchar[];
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
    IF p_owner IS NULL AND v_ids > 0 THEN
      -- Each event names its namespace: an id is unique within a batch per owner.
      SELECT array_agg(x.owner ORDER BY x.ord), bool_or(x.owner IS NULL AND x.event_id IS NOT NULL),
             count(DISTINCT (x.owner, x.event_id)) FILTER (WHERE x.event_id IS NOT NULL)::int
        INTO e_owner, v_incomplete, v_distinct
        FROM ROWS FROM (jsonb_to_recordset(p_events) AS (owner varchar, event_id varchar)) WITH ORDINALITY AS x(owner, event_id, ord);
      IF v_incomplete THEN
        RAISE EXCEPTION 'usage_events_claim: an event id needs an owner';
      END IF;
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
      SELECT COALESCE(p_owner, e.owner), e.event_id, e.id
        FROM unnest(e_event, e_record, e_known, e_owner) AS e(event_id, id, known, owner)
       WHERE e.event_id IS NOT NULL AND e.known
       ORDER BY e.event_id, COALESCE(p_owner, e.owner)
      ON CONFLICT (owner, event_id) DO NOTHING
      RETURNING owner, event_id)
    SELECT array_agg(c.event_id IS NOT NULL ORDER BY e.ord) INTO e_claimed
      FROM unnest(e_event, e_owner) WITH ORDINALITY AS e(event_id, owner, ord)
      LEFT JOIN claimed c ON c.event_id = e.event_id AND c.owner = COALESCE(p_owner, e.owner);
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
                  ELSE (SELECT f.usage_record_id FROM usage_event_ids f
                         WHERE f.owner = COALESCE(p_owner, e.owner) AND f.event_id = e.event_id)
             END
        FROM unnest(e_event, e_record, e_known, e_claimed, e_owner) WITH ORDINALITY AS e(event_id, id, known, claimed, owner, ord)
       ORDER BY e.ord;
  END $function$;
