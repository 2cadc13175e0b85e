-- A lower bound of a set-based take (bench/batch-loop.mjs prints it beside the batch, the floor and
-- the floor locked; docs/benchmarks.md "A take without a loop, measured"). Not the
-- service's: what the batch route's statement would cost if the engine were written as set
-- statements with no PL/pgSQL at all, for the bench's events only (debits with their credits named,
-- users' accounts, promotional lots). It claims the events' ids, locks their accounts in account id
-- order and their live lots, decides soonest-expiring first by running sums (an event's credits
-- against its account's lots: a line for each overlap), lowers the lots, writes the ledger lines
-- and the records, and answers a row per event. It leaves out, so that it can only be cheaper than
-- an engine that does them: caps and their counters, balance alerts, debt and overdraft, holds,
-- the money rule, the release of a refused event's id, an event refused before a later one that
-- fits (it takes the longest prefix of each account's events that its lots cover), and the second
-- snapshot a correct engine reads its lots in after the lock.
-- $1: the owner (the admin), $2: the events' JSON as UsageRecordsRepository.batchParts() sends it.
WITH ev AS MATERIALIZED (
  SELECT x.ord::int AS ord, x.id, x.user_id, x.event_id, x.credits, a.account_id
    FROM ROWS FROM (jsonb_to_recordset($2::jsonb) AS (id uuid, user_id varchar, event_id varchar, credits int))
         WITH ORDINALITY AS x(id, user_id, event_id, credits, ord)
    LEFT JOIN accounts a ON a.user_id = x.user_id),
claimed AS MATERIALIZED (
  INSERT INTO usage_event_ids (owner, event_id, usage_record_id)
  SELECT $1, e.event_id, e.id FROM ev e WHERE e.account_id IS NOT NULL ORDER BY e.event_id
  ON CONFLICT (owner, event_id) DO NOTHING
  RETURNING usage_record_id),
locked AS MATERIALIZED (
  SELECT a.account_id FROM accounts a
   WHERE a.account_id IN (SELECT e.account_id FROM ev e JOIN claimed c ON c.usage_record_id = e.id)
   ORDER BY a.account_id
     FOR NO KEY UPDATE),
lk AS MATERIALIZED (
  SELECT al.id, al.account_id, al.remaining_credits AS rem, al.expires_at, al.allocated_at
    FROM credit_allocations al
   WHERE al.account_id IN (SELECT account_id FROM locked) AND al.expires_at > now() AND al.remaining_credits > 0
   ORDER BY al.account_id, al.expires_at, al.allocated_at, al.id
     FOR UPDATE),
lots AS MATERIALIZED (
  SELECT l.id, l.account_id, sum(l.rem) OVER w - l.rem AS lo, sum(l.rem) OVER w AS hi,
         sum(l.rem) OVER (PARTITION BY l.account_id) AS total
    FROM lk l
  WINDOW w AS (PARTITION BY l.account_id ORDER BY l.expires_at, l.allocated_at, l.id)),
ok AS MATERIALIZED (
  SELECT s.*, t.total
    FROM (SELECT e.ord, e.id, e.user_id, e.account_id, e.credits,
                 sum(e.credits) OVER w - e.credits AS lo, sum(e.credits) OVER w AS hi
            FROM ev e JOIN claimed c ON c.usage_record_id = e.id
          WINDOW w AS (PARTITION BY e.account_id ORDER BY e.ord)) s
    JOIN (SELECT DISTINCT l.account_id, l.total FROM lots l) t ON t.account_id = s.account_id
   WHERE s.hi <= t.total),
lines AS MATERIALIZED (
  SELECT e.ord, l.lo AS lot_from, e.id AS record_id, e.account_id, e.user_id, l.id AS allocation_id,
         (least(e.hi, l.hi) - greatest(e.lo, l.lo))::int AS amount, e.total - least(e.hi, l.hi) AS balance_after
    FROM ok e JOIN lots l ON l.account_id = e.account_id AND l.lo < e.hi AND l.hi > e.lo),
lowered AS (
  UPDATE credit_allocations c SET remaining_credits = c.remaining_credits - s.n
    FROM (SELECT allocation_id, sum(amount)::int AS n FROM lines GROUP BY allocation_id) s
   WHERE c.id = s.allocation_id
  RETURNING 1),
ledger AS (
  INSERT INTO credit_ledger (account_id, member_id, allocation_id, kind, amount, balance_after, usage_record_id,
                             created_by, category)
  SELECT l.account_id, l.user_id, l.allocation_id, 'debit', -l.amount, l.balance_after, l.record_id, $1, 'recognized'
    FROM lines l ORDER BY l.ord, l.lot_from
  RETURNING 1),
records AS (
  INSERT INTO usage_records (id, user_id, "timestamp", service, operation, credits, model_id, tokens,
                             input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
                             metadata, pricing_rule_id, provider_cost, billing_status, shortfall, review_status,
                             usage_source, provider_usage, api_key_id, actor_id, org_id, credits_named, request_id,
                             account_price_id, account_id)
  SELECT r.id, r.user_id, clock_timestamp(), r.service, r.operation, r.credits, r.model_id, r.tokens, r.input_tokens,
         r.output_tokens, r.cache_read_tokens, r.cache_write_tokens, r.reasoning_tokens, r.metadata, r.pricing_rule_id,
         r.provider_cost, 'billed', 0, NULL, COALESCE(r.usage_source, 'reported'), r.provider_usage, r.api_key_id,
         r.actor_id, r.org_id, COALESCE(r.credits_named, false), r.request_id, r.account_price_id, o.account_id
    FROM jsonb_populate_recordset(NULL::usage_records, $2::jsonb) WITH ORDINALITY AS r
    JOIN ok o ON o.id = r.id
   ORDER BY r.ordinality
  RETURNING id)
SELECT e.ord AS out_ord,
       CASE WHEN e.account_id IS NULL THEN 'unknown_user' WHEN o.id IS NOT NULL THEN 'ok'
            WHEN c.usage_record_id IS NULL THEN 'duplicate' ELSE 'insufficient_credits' END AS out_status,
       o.id AS out_usage_record_id, COALESCE(o.credits, 0) AS out_collected, 0 AS out_debt,
       COALESCE(o.total - o.hi, 0) AS out_balance,
       (SELECT count(*) FROM lowered) + (SELECT count(*) FROM ledger) + (SELECT count(*) FROM records) AS written
  FROM ev e
  LEFT JOIN claimed c ON c.usage_record_id = e.id
  LEFT JOIN ok o ON o.id = e.id
 ORDER BY e.ord
