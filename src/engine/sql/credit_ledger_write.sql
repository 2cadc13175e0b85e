CREATE OR REPLACE FUNCTION public.credit_ledger_write(p_accounts bigint[], p_allocations uuid[], p_kinds character varying[], p_amounts integer[],
    p_balances bigint[], p_usage_records uuid[], p_session_id character varying, p_api_key_id uuid, p_created_by character varying,
    p_members character varying[] DEFAULT NULL::character varying[], p_values bigint[] DEFAULT NULL::bigint[],
    p_categories character varying[] DEFAULT NULL::character varying[], p_booked_at timestamp with time zone[] DEFAULT NULL::timestamp with time zone[],
    p_correction_id uuid DEFAULT NULL::uuid, p_correction_ids uuid[] DEFAULT NULL::uuid[], p_created_bys character varying[] DEFAULT NULL::character varying[],
    p_session_ids character varying[] DEFAULT NULL::character varying[], p_api_key_ids uuid[] DEFAULT NULL::uuid[])
 RETURNS void
 LANGUAGE plpgsql
AS $function$
  -- The one writer of credit_ledger (docs/money.md "The ledger"): every movement's lines, line i of
  -- account p_accounts[i] on allocation p_allocations[i] (NULL: an overdraft), of kind p_kinds[i] and
  -- signed amount p_amounts[i], the account's available balance just after it p_balances[i], for the
  -- usage record p_usage_records[i]; the session and the API key it was made through are the
  -- movement's (p_session_id, p_api_key_id) unless the line names its own (p_session_ids[i],
  -- p_api_key_ids[i]: the give-backs of settlements that arrive together), and who made it too
  -- (p_created_by) unless the line names its own (p_created_bys[i]: a take of records that several
  -- writers sent together). An organisation's lines name the member who spent (p_members[i]) as their
  -- member_id (the account says who paid); a user's lines name the user. Every line's amount is applied to its allocation's remaining_credits in the
  -- same call (a late release and its expire on one allocation net to nothing; a grant applies its
  -- +total to the allocation it inserted empty; credits put back clear expiry_done), then the lines are appended in array order. The
  -- caller holds the accounts' lock and has locked the allocations. The accounts' debt follows
  -- their lines here too, so no movement writes it. Each line carries the money it
  -- moves on a valued allocation (docs/finance.md: value_minor, currency; p_values[i] when the caller
  -- knows it and the rule cannot), its finance category and its booking instant (p_booked_at[i]). A
  -- usage correction's lines name it (p_correction_id, usage_corrections.id), as a session's name it;
  -- lines of several corrections (a re-rate's take) name each its own (p_correction_ids[i], before
  -- p_correction_id).
  DECLARE
    v_first integer[];
    v_walk integer[];
    v_r bigint[];
    v_v bigint[];
    v_orig bigint[];
    v_values bigint[];
    v_currencies varchar[];
    v_left bigint[];
    v_bad integer;
    v_bad_r bigint;
    v_val bigint;
    i integer;
    j integer;
    -- a line alone: its allocation as it stands (credits and money left, value, currency, source)
    v_rem bigint; v_had bigint; v_value bigint; v_currency varchar; v_source varchar; v_now bigint;
  BEGIN
    -- The lines' allocations read and the money rule applied (up to the first line refused), then
    -- the allocations and the lines written; each step in two shapes. A line alone (a hold, a record
    -- alone, a settlement's one lot, a grant, a void, an expiry of one lot): the same steps by
    -- expressions and lookups by key. Every statement costs its
    -- start-up whatever its size, and the statements below over the arrays (window functions, a
    -- grouping, a join) cost a line alone more than its rows: about half of the writer's CPU in the
    -- streaming pair, whose hold and settlement write a line each (docs/benchmarks.md "A line
    -- alone").
    IF cardinality(p_accounts) = 1 THEN
      IF p_allocations[1] IS NOT NULL THEN
        SELECT c.remaining_credits, c.value_remaining_minor, c.value_minor, c.currency, c.source
          INTO v_rem, v_had, v_value, v_currency, v_source
          FROM credit_allocations c WHERE c.id = p_allocations[1];
        -- the money rule on a valued allocation (the credits as bigint, as below)
        IF v_had IS NOT NULL THEN
          v_val := credit_line_value(v_had, v_rem, p_amounts[1], p_kinds[1], p_values[1], v_value);
          v_now := v_had + v_val;
          IF credit_line_refused(v_val, v_now, v_rem + p_amounts[1]) THEN
            v_bad := 1;
            v_bad_r := v_rem + p_amounts[1];
          END IF;
        END IF;
      END IF;
      v_left := ARRAY[v_now];
    ELSE
    -- The LIMITs (`cardinality(…)` of the arrays the rows come from) never cut a row: they are there
    -- for the plans. PL/pgSQL keeps a statement's generic plan only while it costs no more than the
    -- plans made for each call's values, and the generic plan sizes unnest() at 10 rows: for the
    -- UPDATE a sequential scan of credit_allocations with a hash join, for the INSERT a hash join
    -- over accounts, each dearer than the one-row index lookups planned for a take of one
    -- allocation, so every take planned both afresh (about a sixth of a record's CPU in PostgreSQL)
    -- or ran the hash join over every account (about a tenth more under the bench, and more the more
    -- accounts there are). A LIMIT the planner cannot read makes the generic plan expect a row or so:
    -- index lookups by key, kept for good, and as fast for the batch's thousand lines.
    -- The money rule (credit_line_value()), line by line in array order: each line on a valued
    -- allocation moves money by the allocation's credits and money left after its lines before. The
    -- rule is sequential within an allocation (2 minor units over 4 credits taken 1, 1, 2 move 0, 0,
    -- 2: no sum over the lines before gives it, and its nested rounding has no closed form over a run
    -- of lines) and nothing across them. So a line whose allocation the call names once (a record;
    -- most of a batch of many users' events) has its money from the allocation as it stands, in the
    -- statement that reads it; only the lines of an allocation named more than once (v_walk) are
    -- walked below. Per line (v_values, the money it moves; v_left, its allocation's money left after
    -- it; null where the walk decides or the allocation is promotional), with the first line of the
    -- first kind the rule refuses (v_bad: a negative money left, money left on no credits, credits
    -- back without their money) and the credits it would leave (v_bad_r). The allocations read as
    -- they stand (credits and money left, original value, currency), with each line's allocation's
    -- first line (v_first[i]), where the walk keeps the allocation's running state. The caller has
    -- locked them; a promotional take reads one index entry more. Per line with the LIMIT above, not
    -- `c.id = ANY (p_allocations)`: PostgreSQL cannot size an array parameter, so it planned that
    -- statement afresh at every call, about a tenth of a hold's or a record's take
    -- (docs/benchmarks.md "Where the streaming pair's time went").
    SELECT array_agg(l.first ORDER BY l.ord), array_agg(c.remaining_credits ORDER BY l.ord),
           array_agg(c.value_remaining_minor ORDER BY l.ord), array_agg(c.value_minor ORDER BY l.ord),
           array_agg(c.currency ORDER BY l.ord),
           array_agg(l.ord ORDER BY l.ord) FILTER (WHERE c.id IS NOT NULL AND (l.prev IS NOT NULL OR l.next IS NOT NULL)),
           array_agg(o.val ORDER BY l.ord), array_agg(o.v ORDER BY l.ord),
           (array_agg(l.ord ORDER BY l.ord) FILTER (WHERE o.bad))[1], (array_agg(o.r ORDER BY l.ord) FILTER (WHERE o.bad))[1]
      INTO v_first, v_r, v_v, v_orig, v_currencies, v_walk, v_values, v_left, v_bad, v_bad_r
      FROM (SELECT l.id, l.ord::int AS ord, first_value(l.ord::int) OVER w AS first, lag(l.ord::int) OVER w AS prev,
                   lead(l.ord::int) OVER w AS next
              FROM unnest(p_allocations) WITH ORDINALITY AS l(id, ord)
            WINDOW w AS (PARTITION BY l.id ORDER BY l.ord)
             LIMIT cardinality(p_allocations)) l
      LEFT JOIN credit_allocations c ON c.id = l.id AND c.value_remaining_minor IS NOT NULL
      -- (credits as bigint: a grant's line and the credits left may add up past an integer)
      LEFT JOIN LATERAL (SELECT x.val, c.value_remaining_minor + x.val AS v, c.remaining_credits::bigint + p_amounts[l.ord] AS r,
                                credit_line_refused(x.val, c.value_remaining_minor + x.val,
                                                    c.remaining_credits::bigint + p_amounts[l.ord]) AS bad
                           FROM (SELECT credit_line_value(c.value_remaining_minor, c.remaining_credits, p_amounts[l.ord], p_kinds[l.ord],
                                                          p_values[l.ord], c.value_minor) AS val
                                  WHERE c.id IS NOT NULL AND l.prev IS NULL AND l.next IS NULL OFFSET 0) x) o ON true;
    -- The lines of allocations named more than once, in array order, each on its allocation's state
    -- after the lines before (kept at its first line, j), up to the first line refused. Tried in SQL
    -- too (a recursive statement walking every allocation at once, a step per line of the most-named
    -- one): exact, but a step cost more than a line here, and one user's batch is a thousand steps
    -- (docs/benchmarks.md "What value tracking costs the record and the batch").
    FOREACH i IN ARRAY COALESCE(v_walk, '{}') LOOP
      EXIT WHEN i > v_bad;
      j := v_first[i];
      v_val := credit_line_value(v_v[j], v_r[j], p_amounts[i], p_kinds[i], p_values[i], v_orig[i]);
      v_r[j] := v_r[j] + p_amounts[i];
      v_v[j] := v_v[j] + v_val;
      v_values[i] := v_val;
      v_left[i] := v_v[j];
      IF credit_line_refused(v_val, v_v[j], v_r[j]) THEN
        v_bad := i;
        v_bad_r := v_r[j];
        EXIT;
      END IF;
    END LOOP;
    END IF;
    -- The first line refused, on either path.
    IF v_bad IS NOT NULL AND v_left[v_bad] IS NULL THEN
      RAISE EXCEPTION 'credit_ledger_write: % credits back to the valued allocation % without their money',
        p_amounts[v_bad], p_allocations[v_bad];
    ELSIF v_bad IS NOT NULL THEN
      RAISE EXCEPTION 'credit_ledger_write: allocation % would keep % minor units for % credits',
        p_allocations[v_bad], v_left[v_bad], v_bad_r;
    END IF;
    IF cardinality(p_accounts) = 1 THEN
      -- a line alone: its allocation and its line, by key
      IF p_allocations[1] IS NOT NULL AND (p_amounts[1] <> 0 OR v_now IS DISTINCT FROM v_had) THEN
        UPDATE credit_allocations c SET remaining_credits = c.remaining_credits + p_amounts[1],
               expiry_done = CASE WHEN p_amounts[1] = 0 THEN c.expiry_done ELSE c.expiry_done AND p_amounts[1] < 0 END,
               value_remaining_minor = COALESCE(v_now, c.value_remaining_minor)
         WHERE c.id = p_allocations[1];
      END IF;
      INSERT INTO credit_ledger (account_id, member_id, allocation_id, kind, amount, balance_after, session_id, usage_record_id,
                                 api_key_id, created_by, value_minor, currency, category, booked_at, correction_id)
      SELECT u.account_id, COALESCE(u.user_id, p_members[1]), p_allocations[1], p_kinds[1], p_amounts[1], p_balances[1],
             COALESCE(p_session_ids[1], p_session_id), p_usage_records[1], COALESCE(p_api_key_ids[1], p_api_key_id),
             COALESCE(p_created_bys[1], p_created_by), v_val, CASE WHEN v_had IS NOT NULL THEN v_currency END,
             COALESCE(p_categories[1], credit_line_category(p_kinds[1], v_source, v_value)), p_booked_at[1],
             COALESCE(p_correction_ids[1], p_correction_id)
        FROM accounts u WHERE u.account_id = p_accounts[1];
    ELSE
    -- One UPDATE per allocation, credits and money together: a second one would recheck its foreign
    -- keys (a row this transaction wrote), taking a share lock on the purchase a refund may hold. A
    -- valued allocation's money left is the rule's after its last line (v_left[m.last]), by
    -- subscript: a join to a list of the allocations' money was planned for the row or so its LIMIT
    -- shows, as a nested loop, one pass over the list per allocation (a batch part's 400 lots:
    -- 150,000 rows, 30 of a valued 1,000-event batch's 72 ms of PostgreSQL CPU).
    UPDATE credit_allocations c SET remaining_credits = c.remaining_credits + m.net,
           -- credits put back make an expired allocation due for the expiry job again
           expiry_done = CASE WHEN m.net = 0 THEN c.expiry_done ELSE c.expiry_done AND m.net < 0 END,
           value_remaining_minor = COALESCE(v_left[m.last], c.value_remaining_minor)
      FROM (SELECT l.allocation_id, sum(l.amount)::int AS net, max(l.ord)::int AS last
              FROM unnest(p_allocations, p_amounts) WITH ORDINALITY AS l(allocation_id, amount, ord)
             WHERE l.allocation_id IS NOT NULL
             GROUP BY l.allocation_id
             LIMIT cardinality(p_allocations)) m
     WHERE c.id = m.allocation_id AND (m.net <> 0 OR v_left[m.last] IS DISTINCT FROM c.value_remaining_minor);
    -- Each line's finance category (docs/finance.md): from its kind, a grant's from its allocation; a
    -- caller's (p_categories[i]) first. Movements inside the liability have none.
    INSERT INTO credit_ledger (account_id, member_id, allocation_id, kind, amount, balance_after, session_id, usage_record_id,
                               api_key_id, created_by, value_minor, currency, category, booked_at, correction_id)
    SELECT l.account_id, COALESCE(u.user_id, p_members[l.ord]), l.allocation_id, l.kind, l.amount, l.balance_after,
           COALESCE(p_session_ids[l.ord], p_session_id), l.usage_record_id,
           COALESCE(p_api_key_ids[l.ord], p_api_key_id), COALESCE(p_created_bys[l.ord], p_created_by), v_values[l.ord], v_currencies[l.ord],
           COALESCE(p_categories[l.ord],
                    CASE WHEN l.kind = 'grant'
                         THEN (SELECT credit_line_category(l.kind, a.source, a.value_minor)
                                 FROM credit_allocations a WHERE a.id = l.allocation_id)
                         ELSE credit_line_category(l.kind, NULL, NULL) END),
           p_booked_at[l.ord], COALESCE(p_correction_ids[l.ord], p_correction_id)
      FROM (SELECT * FROM unnest(p_accounts, p_allocations, p_kinds, p_amounts, p_balances, p_usage_records)
                          WITH ORDINALITY AS l(account_id, allocation_id, kind, amount, balance_after, usage_record_id, ord)
             LIMIT cardinality(p_accounts)) l
      JOIN accounts u ON u.account_id = l.account_id
     ORDER BY l.ord;
    END IF;
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
