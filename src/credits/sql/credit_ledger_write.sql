CREATE OR REPLACE FUNCTION public.credit_ledger_write(p_accounts bigint[], p_allocations uuid[], p_kinds character varying[], p_amounts integer[], p_balances bigint[], p_usage_records uuid[], p_session_id character varying, p_api_key_id uuid, p_created_by character varying, p_members character varying[] DEFAULT NULL::character varying[], p_values bigint[] DEFAULT NULL::bigint[], p_categories character varying[] DEFAULT NULL::character varying[], p_booked_at timestamp with time zone[] DEFAULT NULL::timestamp with time zone[])
 RETURNS void
 LANGUAGE plpgsql
AS $function$
  -- The one writer of credit_ledger (docs/money.md "The ledger"): every movement's lines, line i of
  -- account p_accounts[i] on allocation p_allocations[i] (NULL: an overdraft), of kind p_kinds[i] and
  -- signed amount p_amounts[i], the account's available balance just after it p_balances[i], for the
  -- usage record p_usage_records[i]; the session, the API key it was made through and who made it
  -- are the movement's. An organisation's lines name the member who spent (p_members[i]) as their
  -- member_id (the account says who paid); a user's lines name the user. Every line's amount is applied to its allocation's remaining_credits in the
  -- same call (a late release and its expire on one allocation net to nothing; a grant applies its
  -- +total to the allocation it inserted empty; credits put back clear expiry_done), then the lines are appended in array order. The
  -- caller holds the accounts' lock and has locked the allocations. The accounts' debt follows
  -- their lines here too, so no movement writes it. Each line carries the money it
  -- moves on a valued allocation (docs/finance.md: value_minor, currency; p_values[i] when the caller
  -- knows it and the rule cannot), its finance category and its booking instant (p_booked_at[i]).
  DECLARE
    v_first integer[];
    v_valued boolean;
    v_ids uuid[];
    v_at integer[];
    v_left bigint[];
    v_r bigint[];
    v_v bigint[];
    v_orig bigint[];
    v_cur varchar[];
    v_values bigint[];
    v_currencies varchar[];
    v_n integer;
    v_val bigint;
    j integer;
  BEGIN
    -- The LIMITs (`cardinality(…)` of the arrays the rows come from) never cut a row: they are there
    -- for the plans. PL/pgSQL keeps a statement's generic plan only while it costs no more than the
    -- plans made for each call's values, and the generic plan sizes unnest() at 10 rows: for the
    -- UPDATE a sequential scan of credit_allocations with a hash join, for the INSERT a hash join
    -- over accounts, each dearer than the one-row index lookups planned for a take of one
    -- allocation, so every take planned both afresh (about a sixth of a record's CPU in PostgreSQL)
    -- or ran the hash join over every account (about a tenth more under the bench, and more the more
    -- accounts there are). A LIMIT the planner cannot read makes the generic plan expect a row or so:
    -- index lookups by key, kept for good, and as fast for the batch's thousand lines.
    -- The valued allocations of the lines as they stand before them (credits and money left, original
    -- value, currency), one element per line, with the line that first names the same allocation
    -- (v_first[i]): the rule below keeps each allocation's running state at that line's index, so a
    -- line finds its allocation by one subscript, not by searching (array_position() over a batch's
    -- thousand lots was a search per line, a fifth of a valued batch). The caller has locked them; a
    -- promotional take reads one index entry more. Per line with the LIMIT above, not
    -- `c.id = ANY (p_allocations)`: PostgreSQL cannot size an array parameter, so it planned that
    -- statement afresh at every call, about a tenth of a hold's or a record's take
    -- (docs/benchmarks.md "Issue 42: where the streaming pair's time went").
    SELECT array_agg(l.first ORDER BY l.ord), array_agg(c.remaining_credits ORDER BY l.ord),
           array_agg(c.value_remaining_minor ORDER BY l.ord), array_agg(c.value_minor ORDER BY l.ord),
           array_agg(c.currency ORDER BY l.ord), bool_or(c.id IS NOT NULL)
      INTO v_first, v_r, v_v, v_orig, v_cur, v_valued
      FROM (SELECT l.id, l.ord::int AS ord, min(l.ord::int) OVER (PARTITION BY l.id) AS first
              FROM unnest(p_allocations) WITH ORDINALITY AS l(id, ord)
             LIMIT cardinality(p_allocations)) l
      LEFT JOIN credit_allocations c ON c.id = l.id AND c.value_remaining_minor IS NOT NULL;
    IF v_valued THEN
      -- The money rule, line by line in array order (credit_value_share()): credits leaving take their
      -- share of the money left; a grant or a transfer's arrival fills its new lot with its value;
      -- credits coming back (a release, an unfreeze) bring the money their caller says.
      FOR i IN 1 .. cardinality(p_allocations) LOOP
        CONTINUE WHEN v_v[i] IS NULL;
        j := v_first[i];
        IF j = i THEN
          -- the allocation's first line: its money left goes to the UPDATE below
          v_ids := v_ids || p_allocations[i];
          v_at := v_at || i;
        END IF;
        v_n := p_amounts[i];
        IF p_values[i] IS NOT NULL THEN
          v_val := p_values[i];
        ELSIF v_n <= 0 THEN
          v_val := -credit_value_share(v_v[j], -v_n, v_r[j]);
        ELSIF p_kinds[i] IN ('grant', 'transfer_in') THEN
          v_val := v_orig[j];
        ELSE
          RAISE EXCEPTION 'credit_ledger_write: % credits back to the valued allocation % without their money',
            v_n, p_allocations[i];
        END IF;
        v_r[j] := v_r[j] + v_n;
        v_v[j] := v_v[j] + v_val;
        IF v_v[j] < 0 OR (v_r[j] = 0 AND v_v[j] <> 0) THEN
          RAISE EXCEPTION 'credit_ledger_write: allocation % would keep % minor units for % credits',
            p_allocations[i], v_v[j], v_r[j];
        END IF;
        v_values[i] := v_val;
        v_currencies[i] := v_cur[j];
      END LOOP;
      -- each valued allocation's money left, after all its lines
      SELECT array_agg(v_v[a.i] ORDER BY a.k) INTO v_left FROM unnest(v_at) WITH ORDINALITY AS a(i, k);
    END IF;
    -- One UPDATE per allocation, credits and money together: a second one would recheck its foreign
    -- keys (a row this transaction wrote), taking a share lock on the purchase a refund may hold.
    UPDATE credit_allocations c SET remaining_credits = c.remaining_credits + m.net,
           -- credits put back make an expired allocation due for the expiry job again
           expiry_done = CASE WHEN m.net = 0 THEN c.expiry_done ELSE c.expiry_done AND m.net < 0 END,
           value_remaining_minor = COALESCE(v.value_left, c.value_remaining_minor)
      FROM (SELECT l.allocation_id, sum(l.amount)::int AS net
              FROM unnest(p_allocations, p_amounts) AS l(allocation_id, amount)
             WHERE l.allocation_id IS NOT NULL
             GROUP BY l.allocation_id
             LIMIT cardinality(p_allocations)) m
      LEFT JOIN (SELECT * FROM unnest(v_ids, v_left) AS s(id, value_left) LIMIT cardinality(v_ids)) v ON v.id = m.allocation_id
     WHERE c.id = m.allocation_id AND (m.net <> 0 OR v.value_left IS DISTINCT FROM c.value_remaining_minor);
    -- Each line's finance category (docs/finance.md): from its kind, a grant's from its allocation; a
    -- caller's (p_categories[i]) first. Movements inside the liability have none.
    INSERT INTO credit_ledger (account_id, member_id, allocation_id, kind, amount, balance_after, session_id, usage_record_id,
                               api_key_id, created_by, value_minor, currency, category, booked_at)
    SELECT l.account_id, COALESCE(u.user_id, p_members[l.ord]), l.allocation_id, l.kind, l.amount, l.balance_after, p_session_id, l.usage_record_id,
           p_api_key_id, p_created_by, v_values[l.ord], v_currencies[l.ord],
           COALESCE(p_categories[l.ord],
                    CASE l.kind WHEN 'debit' THEN 'recognized' WHEN 'repay' THEN 'recognized' WHEN 'expire' THEN 'expired'
                                WHEN 'void' THEN 'voided' WHEN 'refund' THEN 'refunded'
                                WHEN 'transfer_out' THEN 'transferred_out' WHEN 'transfer_in' THEN 'transferred_in'
                                WHEN 'grant' THEN (SELECT CASE WHEN a.source = 'rollover' THEN NULL
                                                               WHEN a.source = 'purchase' THEN 'purchased'
                                                               WHEN a.value_minor IS NOT NULL THEN 'sold'
                                                               ELSE 'granted' END
                                                     FROM credit_allocations a WHERE a.id = l.allocation_id)
                    END),
           p_booked_at[l.ord]
      FROM (SELECT * FROM unnest(p_accounts, p_allocations, p_kinds, p_amounts, p_balances, p_usage_records)
                          WITH ORDINALITY AS l(account_id, allocation_id, kind, amount, balance_after, usage_record_id, ord)
             LIMIT cardinality(p_accounts)) l
      JOIN accounts u ON u.account_id = l.account_id
     ORDER BY l.ord;
    -- The debt is derived state of the lines (docs/money.md "The ledger"): an overdraft or a debt
    -- line (no allocation) adds what it took, a repay line takes off what it paid back, so the debt
    -- is the sum of those lines by construction. Only a movement with such a line pays for the
    -- statement (most takes have none). An account without a credit_accounts row gets it here, with
    -- its first debt (a repay needs a debt, so a row); an upsert could not carry a repay's negative
    -- change, since the row it proposes is checked (debt >= 0) before its conflict is.
    IF p_kinds && ARRAY['overdraft', 'debt', 'repay']::varchar[] THEN
      WITH moved AS (
        SELECT l.account_id, sum(CASE WHEN l.kind = 'repay' THEN l.amount ELSE -l.amount END)::int AS debt
          FROM unnest(p_accounts, p_kinds, p_amounts) AS l(account_id, kind, amount)
         WHERE l.kind IN ('overdraft', 'debt', 'repay')
         GROUP BY l.account_id
         LIMIT cardinality(p_accounts)),
      updated AS (
        UPDATE credit_accounts c SET debt = c.debt + m.debt, updated_at = now()
          FROM moved m WHERE c.account_id = m.account_id AND m.debt <> 0
        RETURNING c.account_id)
      INSERT INTO credit_accounts (account_id, debt)
      SELECT m.account_id, m.debt
        FROM moved m
       WHERE m.debt > 0 AND NOT EXISTS (SELECT 1 FROM updated d WHERE d.account_id = m.account_id);
    END IF;
  END $function$;
