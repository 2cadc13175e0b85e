CREATE OR REPLACE FUNCTION public.credit_take_members(p_event_accounts integer[], p_members character varying[], p_account_ids bigint[],
    p_orgs character varying[], OUT out_m integer[], OUT out_u integer[], OUT out_member character varying[], OUT out_found boolean[],
    OUT out_removed boolean[], OUT out_limit bigint[], OUT out_period character varying[], OUT out_spent bigint[])
 RETURNS record
 LANGUAGE plpgsql
AS $function$
  -- The members' limits of a take (credits_take_events()), read under their organisation's lock: the
  -- distinct (account, member) pairs of its events, out_u[k] (the account, by its position in
  -- p_account_ids) and out_member[k], of the events whose account is an organisation's (p_orgs[u]);
  -- event i's pair is out_m[i] (null: none). Per pair: whether the member is one (out_found) and was
  -- removed, their limit (credit_caps, one primary-key lookup), its period and what they spent in it
  -- (credit_cap_spent(), inlined into the statement that reads it). No pair: out_u is null.
  -- A batch of one's member is read by equality: the statement over unnest() is planned for ten rows,
  -- and for one it cost an organisation's record more than the rest of its member cap (+53 %,
  -- docs/benchmarks.md "The batch of one's forks").
  BEGIN
    IF cardinality(p_event_accounts) = 1 THEN
      IF p_orgs[1] IS NULL OR p_members[1] IS NULL THEN out_m := ARRAY[NULL::integer]; RETURN; END IF;
      out_u := ARRAY[1]; out_member := p_members; out_m := ARRAY[1];
      SELECT ARRAY[om.user_id IS NOT NULL], ARRAY[om.removed_at IS NOT NULL], ARRAY[cap.credit_limit], ARRAY[cap.period],
             ARRAY[COALESCE(sp.spent, 0)]
        INTO out_found, out_removed, out_limit, out_period, out_spent
        FROM (SELECT 1) one
        LEFT JOIN org_members om ON om.org_id = p_orgs[1] AND om.user_id = p_members[1]
        LEFT JOIN credit_caps cap ON cap.subject_kind = 'member' AND cap.subject_id = p_members[1]
                                 AND cap.account_id = p_account_ids[1]
        LEFT JOIN LATERAL credit_cap_spent('member', om.user_id, p_account_ids[1], cap.period, now()) sp ON cap.credit_limit IS NOT NULL;
      RETURN;
    END IF;
    SELECT array_agg(d.u ORDER BY d.u, d.member), array_agg(d.member ORDER BY d.u, d.member) INTO out_u, out_member
      FROM (SELECT DISTINCT e.u, e.member FROM unnest(p_event_accounts, p_members) AS e(u, member) WHERE e.member IS NOT NULL) d
     WHERE p_orgs[d.u] IS NOT NULL;
    IF out_u IS NULL THEN out_m := array_fill(NULL::integer, ARRAY[cardinality(p_event_accounts)]); RETURN; END IF;
    SELECT array_agg(m.ord::int ORDER BY e.ord) INTO out_m
      FROM unnest(p_event_accounts, p_members) WITH ORDINALITY AS e(u, member, ord)
      LEFT JOIN unnest(out_u, out_member) WITH ORDINALITY AS m(u, member, ord) ON m.u = e.u AND m.member = e.member;
    SELECT array_agg(om.user_id IS NOT NULL ORDER BY m.ord), array_agg(om.removed_at IS NOT NULL ORDER BY m.ord),
           array_agg(cap.credit_limit ORDER BY m.ord), array_agg(cap.period ORDER BY m.ord),
           array_agg(COALESCE(sp.spent, 0) ORDER BY m.ord)
      INTO out_found, out_removed, out_limit, out_period, out_spent
      FROM unnest(out_u, out_member) WITH ORDINALITY AS m(u, member, ord)
      LEFT JOIN org_members om ON om.org_id = p_orgs[m.u] AND om.user_id = m.member
      LEFT JOIN credit_caps cap ON cap.subject_kind = 'member' AND cap.subject_id = m.member
                               AND cap.account_id = p_account_ids[m.u]
      LEFT JOIN LATERAL credit_cap_spent('member', om.user_id, p_account_ids[m.u], cap.period, now()) sp
             ON cap.credit_limit IS NOT NULL;
  END $function$;
