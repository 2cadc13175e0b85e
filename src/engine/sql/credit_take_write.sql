CREATE OR REPLACE FUNCTION public.credit_take_write(p_lines record, p_api_key_id uuid, p_created_by character varying)
 RETURNS integer
 LANGUAGE plpgsql
AS $function$
  -- The ledger lines of a take (credits_take_events()), as credit_take_fifo() made them (p_lines), by
  -- the one writer, credit_ledger_write(), which moves the debts with the overdraft lines, in ONE
  -- call: for the usual take (one session, or none) in the order they happened; lines of several
  -- sessions grouped by session, each group in the order it happened, the groups in the order of
  -- their first line, each line naming its session (p_session_ids). A call a session wrote the
  -- lines of a batch of holds one call each, each updating the allocation they share: a sixteenth
  -- of the work for sixteen holds of one account (docs/benchmarks.md "One account's gateway
  -- requests together"). Answers the lines' count: a value, so the take calls it as an expression,
  -- without a statement of its own. One session: nothing left once the first line's session is
  -- removed (array_remove() removes NULLs for NULL), an expression with no query, which starts no
  -- executor.
  BEGIN
    IF cardinality(array_remove(p_lines.out_sessions, p_lines.out_sessions[1])) = 0 THEN
      PERFORM credit_ledger_write(p_lines.out_accounts, p_lines.out_allocations, p_lines.out_kinds, p_lines.out_amounts, p_lines.out_balances,
                                  p_lines.out_records, p_lines.out_sessions[1], p_api_key_id, p_created_by, p_lines.out_members,
                                  p_correction_ids => p_lines.out_corrections, p_created_bys => p_lines.out_bys);
      RETURN cardinality(p_lines.out_accounts);
    END IF;
    PERFORM credit_ledger_write(g.accounts, g.allocations, g.kinds, g.amounts, g.balances, g.records, NULL,
                                p_api_key_id, p_created_by, g.members, p_correction_ids => g.corrections, p_created_bys => g.bys,
                                p_session_ids => g.sessions)
       FROM (SELECT array_agg(l.session ORDER BY l.first, l.i) AS sessions, array_agg(l.account ORDER BY l.first, l.i) AS accounts,
                    array_agg(l.allocation ORDER BY l.first, l.i) AS allocations, array_agg(l.kind ORDER BY l.first, l.i) AS kinds,
                    array_agg(l.amount ORDER BY l.first, l.i) AS amounts, array_agg(l.balance ORDER BY l.first, l.i) AS balances,
                    array_agg(l.record ORDER BY l.first, l.i) AS records, array_agg(l.member ORDER BY l.first, l.i) AS members,
                    array_agg(l.correction ORDER BY l.first, l.i) AS corrections, array_agg(l.writer ORDER BY l.first, l.i) AS bys
               FROM (SELECT l.*, min(l.i) OVER (PARTITION BY l.session) AS first
                       FROM unnest(p_lines.out_sessions, p_lines.out_accounts, p_lines.out_allocations, p_lines.out_kinds, p_lines.out_amounts,
                                   p_lines.out_balances, p_lines.out_records, p_lines.out_members, p_lines.out_corrections, p_lines.out_bys)
                            WITH ORDINALITY AS l(session, account, allocation, kind, amount, balance, record, member, correction, writer, i)) l) g;
    RETURN cardinality(p_lines.out_accounts);
  END $function$;
