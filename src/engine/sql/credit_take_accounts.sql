CREATE OR REPLACE FUNCTION public.credit_take_accounts(p_account_ids bigint[], p_members character varying[], OUT out_u integer[], OUT out_acc bigint[],
    OUT out_known boolean[], OUT out_org character varying[])
 RETURNS record
 LANGUAGE plpgsql
AS $function$
  -- The take's first step (credits_take_events()): the accounts of its events, each once, locked in
  -- account id order (credits_lock_account_ids(), the order of every movement's lock), so one
  -- account's movements serialise with all others and two takes lock in the same order. Event i is
  -- of account out_acc[out_u[i]] (an event without one counts as account 0, which no account has);
  -- out_known[u]: the account exists; out_org[u]: its organisation (null: a user's), read only when an
  -- event names a member (a batch of users' records pays no lookup for it).
  -- A batch of one is locked and resolved by scalar lookups, no statement over its arrays: worth
  -- 12 to 34 % of a single take's time in the database (docs/benchmarks.md "The batch of one's forks").
  -- Its account row is locked by key here, the lock credits_lock_account_ids() takes of one id, in
  -- one statement: through that function it was two, a statement over its rows and the function's
  -- own (docs/benchmarks.md "The record alone, counted").
  DECLARE
    v_acc bigint;
  BEGIN
    IF cardinality(p_account_ids) = 1 THEN
      out_u := ARRAY[1];
      SELECT a.account_id INTO v_acc FROM accounts a WHERE a.account_id = p_account_ids[1] FOR NO KEY UPDATE OF a;
      out_acc := ARRAY[v_acc]; out_known := ARRAY[v_acc IS NOT NULL];
      out_org := ARRAY[CASE WHEN p_members[1] IS NOT NULL AND v_acc IS NOT NULL THEN account_org_id(v_acc) END];
      RETURN;
    END IF;
    SELECT array_agg(DISTINCT COALESCE(t.x, 0) ORDER BY COALESCE(t.x, 0)) INTO out_acc FROM unnest(p_account_ids) AS t(x);
    SELECT array_agg(u.ord::int ORDER BY e.ord) INTO out_u
      FROM unnest(p_account_ids) WITH ORDINALITY AS e(account_id, ord)
      JOIN unnest(out_acc) WITH ORDINALITY AS u(account_id, ord) ON u.account_id = COALESCE(e.account_id, 0);
    SELECT array_agg(l.id IS NOT NULL ORDER BY u.ord), array_agg(l.id ORDER BY u.ord) INTO out_known, out_acc
      FROM unnest(out_acc) WITH ORDINALITY AS u(account_id, ord)
      LEFT JOIN credits_lock_account_ids(out_acc) AS l(id) ON l.id = u.account_id;
    -- apart from the lock: as `CASE WHEN` inside it, the statement was planned at every call
    IF cardinality(array_remove(p_members, NULL)) > 0 THEN
      out_org := (SELECT array_agg(account_org_id(x.a) ORDER BY x.o) FROM unnest(out_acc) WITH ORDINALITY AS x(a, o));
    END IF;
  END $function$;
