CREATE OR REPLACE FUNCTION public.credit_take_fifo(p_event_accounts integer[], p_status character varying[], p_collected bigint[], p_debt bigint[],
    p_before bigint[], p_takes character varying[], p_usage_records uuid[], p_members character varying[], p_sessions character varying[], p_corrections uuid[],
    p_created_bys character varying[], p_account_ids bigint[], p_lots record, p_parts jsonb[], OUT out_accounts bigint[], OUT out_allocations uuid[],
    OUT out_kinds character varying[], OUT out_amounts integer[], OUT out_balances bigint[], OUT out_records uuid[], OUT out_members character varying[],
    OUT out_sessions character varying[], OUT out_corrections uuid[], OUT out_bys character varying[], OUT out_parts jsonb[])
 RETURNS record
 LANGUAGE plpgsql
AS $function$
  -- The FIFO over the lots of a take (credits_take_events()), after its decisions: each event let
  -- through (p_status[i] 'ok') takes p_collected[i] from its account's live allocations still holding
  -- credits (p_lots, credit_take_lots(): account p_account_ids[u]'s are out_first[u] .. out_last[u]),
  -- in event order (credit_fifo_walk()), one ledger line per allocation touched, counting down from
  -- its balance before (p_before[i]), then one overdraft line (no allocation) for its debt
  -- (p_debt[i]) at the balance left. The lines, in the order they happen, for credit_take_write():
  -- each of its event's kind (p_takes[i]), usage record, member, session, correction and writer
  -- (p_created_bys[i]; null: the take's). Per event its parts, p_parts[i] but for a hold let through:
  -- what it keeps of each allocation ([{allocationId, amount}]: a settlement gives it back to the same rows).
  DECLARE
    a_id uuid[] := p_lots.out_id; a_rem integer[] := p_lots.out_remaining;
    u_ptr integer[] := p_lots.out_first; u_last integer[] := p_lots.out_last;
    l_n integer := 0; i integer; j integer; k integer; u integer;
    v_parts integer[]; v_bal bigint;
  BEGIN
    out_accounts := '{}'; out_allocations := '{}'; out_kinds := '{}'; out_amounts := '{}'; out_balances := '{}'; out_records := '{}';
    out_members := '{}'; out_sessions := '{}'; out_corrections := '{}'; out_bys := '{}';
    out_parts := p_parts;
    FOR i IN 1 .. cardinality(p_status) LOOP
      CONTINUE WHEN p_status[i] IS DISTINCT FROM 'ok';
      u := p_event_accounts[i]; v_bal := p_before[i];
      IF p_takes[i] = 'hold' THEN out_parts[i] := '[]'; END IF;
      v_parts := credit_fifo_walk(a_rem[u_ptr[u]:u_last[u]], p_collected[i]);
      FOR k IN 1 .. cardinality(v_parts) + CASE WHEN p_debt[i] > 0 THEN 1 ELSE 0 END LOOP
        l_n := l_n + 1;
        IF k <= cardinality(v_parts) THEN
          j := u_ptr[u] + k - 1;
          a_rem[j] := a_rem[j] - v_parts[k]; v_bal := v_bal - v_parts[k];
          out_allocations[l_n] := a_id[j]; out_kinds[l_n] := p_takes[i]; out_amounts[l_n] := -v_parts[k];
          IF p_takes[i] = 'hold' THEN
            out_parts[i] := out_parts[i] || jsonb_build_object('allocationId', a_id[j], 'amount', v_parts[k]);
          END IF;
        ELSE
          out_allocations[l_n] := NULL; out_kinds[l_n] := 'overdraft'; out_amounts[l_n] := -p_debt[i];
        END IF;
        out_accounts[l_n] := p_account_ids[u]; out_balances[l_n] := v_bal; out_records[l_n] := p_usage_records[i];
        out_members[l_n] := p_members[i]; out_sessions[l_n] := p_sessions[i]; out_corrections[l_n] := p_corrections[i];
        out_bys[l_n] := p_created_bys[i];
      END LOOP;
      WHILE u_ptr[u] BETWEEN 1 AND u_last[u] AND a_rem[u_ptr[u]] = 0 LOOP
        u_ptr[u] := u_ptr[u] + 1;
      END LOOP;
    END LOOP;
  END $function$;
