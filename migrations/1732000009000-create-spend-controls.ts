import type { MigrationInterface, QueryRunner } from 'typeorm';

import { CreateCreditsTake1732000005000 } from './1732000005000-create-credits-take.js';

/**
 * Spend controls (docs/money.md "Spend controls"): a capped overdraft whose uncovered part is debt,
 * repaid first by the next grant; an API key's credit budget per period; a per-user spend rate over
 * the trailing hour; a review queue for shortfalls; low-balance alerts.
 *
 * - `credit_accounts`: one row per user with money settings or state (absent = all defaults): the
 *   debt, the overdraft limit, a custom hourly spend limit, custom alert thresholds, and the spend
 *   window: 60 per-minute buckets (slot = minute mod 60) and the minute of the newest one, so the
 *   rate check reads one small row instead of an hour of records.
 * - `credit_key_spend`: what each budgeted key spent in its current period.
 * - credit_ledger: `overdraft` entries (no allocation: credits spent beyond the balance, the debt's
 *   origin) and `repay` entries (on the allocation whose credits paid debt back).
 * - credits_take() v2: the same FIFO take in one round trip, now also checking the key budget and the
 *   spend rate, spending into the overdraft, counting key and rate spend, and emitting the
 *   low-balance events; it answers a status instead of leaving the caller to compare amounts.
 */
export class CreateSpendControls1732000009000 implements MigrationInterface {
  name = 'CreateSpendControls1732000009000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE credit_accounts (
        user_id                varchar(50) PRIMARY KEY REFERENCES user_accounts (user_id),
        debt                   integer     NOT NULL DEFAULT 0 CONSTRAINT credit_accounts_debt_check CHECK (debt >= 0),
        overdraft_limit        integer     NOT NULL DEFAULT 0
                               CONSTRAINT credit_accounts_overdraft_check CHECK (overdraft_limit >= 0),
        max_credits_per_hour   integer     CONSTRAINT credit_accounts_rate_check CHECK (max_credits_per_hour >= 1),
        low_balance_thresholds integer[],
        spend_minute           bigint      NOT NULL DEFAULT '0',
        spend_window           integer[]   NOT NULL DEFAULT array_fill(0, ARRAY[60]),
        updated_at             timestamptz NOT NULL DEFAULT now()
      )`);
    // The review queue lists users with debt.
    await q.query(`CREATE INDEX credit_accounts_debt_idx ON credit_accounts (user_id) WHERE debt > 0`);

    await q.query(`
      ALTER TABLE api_keys
        ADD COLUMN credit_limit integer CONSTRAINT api_keys_credit_limit_check CHECK (credit_limit >= 1),
        ADD COLUMN limit_period varchar(5)
          CONSTRAINT api_keys_limit_period_check CHECK (limit_period IN ('day', 'week', 'month', 'total')),
        ADD CONSTRAINT api_keys_limit_check CHECK ((credit_limit IS NULL) = (limit_period IS NULL))`);
    await q.query(`
      CREATE TABLE credit_key_spend (
        api_key_id   uuid        PRIMARY KEY REFERENCES api_keys (id) ON DELETE CASCADE,
        period_start timestamptz NOT NULL,
        spent        bigint      NOT NULL DEFAULT '0' CONSTRAINT credit_key_spend_spent_check CHECK (spent >= 0)
      )`);
    // A hold remembers the key it counted against, so a settlement gives the unused part back to it.
    await q.query(`ALTER TABLE credit_holds ADD COLUMN api_key_id uuid, ADD COLUMN key_period_start timestamptz`);

    await q.query(`
      ALTER TABLE usage_records
        ADD COLUMN shortfall integer NOT NULL DEFAULT 0 CONSTRAINT usage_records_shortfall_check CHECK (shortfall >= 0),
        ADD COLUMN review_status varchar(10)
          CONSTRAINT usage_records_review_status_check CHECK (review_status IN ('open', 'resolved')),
        ADD COLUMN resolution varchar(10)
          CONSTRAINT usage_records_resolution_check CHECK (resolution IN ('write_off', 'collect')),
        ADD COLUMN resolved_by varchar(50),
        ADD COLUMN resolved_at timestamptz,
        ADD COLUMN resolution_note varchar(500)`);
    await q.query(`
      UPDATE usage_records SET review_status = 'open',
             shortfall = GREATEST(COALESCE((metadata->>'shortfall')::integer, 0), 0)
       WHERE billing_status = 'needs_review'`);
    await q.query(`
      CREATE INDEX usage_records_review_queue_idx ON usage_records (review_status, "timestamp" DESC, id DESC)
        WHERE review_status IS NOT NULL`);

    await q.query(`ALTER TABLE credit_ledger ALTER COLUMN allocation_id DROP NOT NULL`);
    await q.query(`ALTER TABLE credit_ledger DROP CONSTRAINT credit_ledger_kind_check`);
    await q.query(`ALTER TABLE credit_ledger ADD CONSTRAINT credit_ledger_kind_check
      CHECK (kind IN ('grant', 'debit', 'hold', 'release', 'expire', 'void', 'rollover', 'repay', 'overdraft'))`);
    await q.query(`ALTER TABLE credit_ledger ADD CONSTRAINT credit_ledger_allocation_check
      CHECK ((kind = 'overdraft') = (allocation_id IS NULL))`);

    // balance.low for every threshold (the user's own, else the defaults) that a movement took the
    // balance from at or above to below; balance.depleted when it reached 0. Stateless: a threshold
    // is armed again simply by the balance being back at or above it, as only a crossing emits.
    await q.query(`
      CREATE FUNCTION credit_balance_alerts(p_user_id varchar, p_before bigint, p_after bigint, p_thresholds integer[])
      RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        t integer;
      BEGIN
        IF p_after >= p_before THEN RETURN; END IF;
        FOREACH t IN ARRAY COALESCE(p_thresholds, '{}') LOOP
          IF p_before >= t AND p_after < t THEN
            PERFORM emit_event('balance.low', p_user_id,
              jsonb_build_object('userId', p_user_id, 'threshold', t, 'balance', p_after));
          END IF;
        END LOOP;
        IF p_before > 0 AND p_after <= 0 THEN
          PERFORM emit_event('balance.depleted', p_user_id, jsonb_build_object('userId', p_user_id));
        END IF;
      END $$`);

    await q.query(`DROP FUNCTION credits_take(varchar, integer, varchar, boolean, varchar, uuid, varchar)`);
    await q.query(CREDITS_TAKE_V2);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DROP FUNCTION credits_take(varchar, integer, varchar, varchar, varchar, uuid, varchar, uuid, integer, integer[])`,
    );
    await q.query(`DROP FUNCTION credit_balance_alerts(varchar, bigint, bigint, integer[])`);
    await new CreateCreditsTake1732000005000().up(q);
    await q.query(`ALTER TABLE credit_ledger DROP CONSTRAINT credit_ledger_allocation_check`);
    await q.query(`ALTER TABLE credit_ledger DROP CONSTRAINT credit_ledger_kind_check`);
    await q.query(`ALTER TABLE credit_ledger ADD CONSTRAINT credit_ledger_kind_check
      CHECK (kind IN ('grant', 'debit', 'hold', 'release', 'expire', 'void', 'rollover'))`);
    await q.query(`ALTER TABLE credit_ledger ALTER COLUMN allocation_id SET NOT NULL`);
    await q.query(`DROP INDEX usage_records_review_queue_idx`);
    await q.query(`ALTER TABLE usage_records DROP COLUMN resolution_note, DROP COLUMN resolved_at,
      DROP COLUMN resolved_by, DROP COLUMN resolution, DROP COLUMN review_status, DROP COLUMN shortfall`);
    await q.query(`ALTER TABLE credit_holds DROP COLUMN key_period_start, DROP COLUMN api_key_id`);
    await q.query(`DROP TABLE credit_key_spend`);
    await q.query(`ALTER TABLE api_keys DROP CONSTRAINT api_keys_limit_check,
      DROP COLUMN limit_period, DROP COLUMN credit_limit`);
    await q.query(`DROP TABLE credit_accounts`);
  }
}

/**
 * $1 user, $2 amount, $3 kind ('debit' | 'hold'), $4 mode ('strict': all or nothing; 'up_to': as much
 * as balance and overdraft allow, for settlement overruns; 'collect': all, what the balance lacks as
 * debt whatever the overdraft, for a reviewed shortfall), $5 session, $6 usage record, $7 created
 * by, $8 API key (its budget), $9 default hourly limit (null: none), $10 default alert thresholds.
 *
 * Under the account-row lock (a fresh snapshot per statement, so it sees the previous holder's
 * commit): key budget, then spend rate (strict only: an overrun is owed, not asked), then the FIFO
 * take from the unexpired allocations, then what the balance cannot pay from the overdraft (debits
 * only) as an `overdraft` entry and debt. Status: ok | insufficient | key_limit | rate_limited.
 */
const CREDITS_TAKE_V2 = `
  CREATE FUNCTION credits_take(
    p_user_id varchar, p_amount integer, p_kind varchar, p_mode varchar,
    p_session_id varchar, p_usage_record_id uuid, p_created_by varchar,
    p_api_key_id uuid, p_rate_default integer, p_thresholds integer[])
  RETURNS TABLE (out_status varchar, out_available bigint, out_headroom bigint, out_collected bigint,
                 out_debt bigint, out_balance_after bigint, out_parts jsonb, out_retry_after integer)
  LANGUAGE plpgsql VOLATILE AS $$
  DECLARE
    r record;
    acc credit_accounts%ROWTYPE;
    v_strict boolean := p_mode = 'strict';
    v_available bigint := 0;
    v_headroom bigint := 0;
    v_left bigint;
    v_balance bigint;
    v_new_debt bigint := 0;
    v_charged bigint;
    v_part integer;
    v_ids uuid[] := '{}';
    v_rem integer[] := '{}';
    v_take_ids uuid[] := '{}';
    v_take_amounts integer[] := '{}';
    v_take_balances bigint[] := '{}';
    v_key_limit integer;
    v_key_period varchar;
    v_key_start timestamptz;
    v_key_spent bigint := 0;
    v_rate_limit integer;
    v_minute bigint := floor(extract(epoch FROM now()) / 60)::bigint;
    v_window integer[];
    v_used bigint := 0;
    v_freed bigint := 0;
    m bigint;
  BEGIN
    IF p_amount IS NULL OR p_amount < 0 THEN
      RAISE EXCEPTION 'credits_take: amount must be a non-negative integer';
    END IF;
    PERFORM 1 FROM user_accounts a WHERE a.user_id = p_user_id FOR UPDATE;
    SELECT * INTO acc FROM credit_accounts c WHERE c.user_id = p_user_id;

    IF p_api_key_id IS NOT NULL THEN
      SELECT k.credit_limit, k.limit_period INTO v_key_limit, v_key_period FROM api_keys k WHERE k.id = p_api_key_id;
      IF v_key_limit IS NOT NULL THEN
        v_key_start := CASE v_key_period
          WHEN 'day' THEN date_trunc('day', now(), 'UTC')
          WHEN 'week' THEN date_trunc('week', now(), 'UTC')
          WHEN 'month' THEN date_trunc('month', now(), 'UTC')
          ELSE '-infinity'::timestamptz END;
        SELECT CASE WHEN s.period_start = v_key_start THEN s.spent ELSE 0 END INTO v_key_spent
          FROM credit_key_spend s WHERE s.api_key_id = p_api_key_id;
        v_key_spent := COALESCE(v_key_spent, 0);
        IF v_strict AND v_key_spent + p_amount > v_key_limit THEN
          RETURN QUERY SELECT 'key_limit'::varchar, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint,
                              '[]'::jsonb, NULL::integer;
          RETURN;
        END IF;
      END IF;
    END IF;

    v_rate_limit := COALESCE(acc.max_credits_per_hour, p_rate_default);
    IF v_rate_limit IS NOT NULL AND v_strict AND p_amount > 0 THEN
      v_window := COALESCE(acc.spend_window, array_fill(0, ARRAY[60]));
      -- Slots of minutes after the newest bucket hold spend from an hour or more ago: clear them.
      FOR m IN COALESCE(acc.spend_minute, 0) + 1 .. LEAST(v_minute, COALESCE(acc.spend_minute, 0) + 60) LOOP
        v_window[(m % 60) + 1] := 0;
      END LOOP;
      SELECT COALESCE(SUM(x), 0) INTO v_used FROM unnest(v_window) x;
      IF v_used + p_amount > v_rate_limit THEN
        -- Retry when enough of the oldest minutes have left the window (never: in an hour).
        FOR m IN v_minute - 59 .. v_minute LOOP
          v_freed := v_freed + v_window[(m % 60) + 1];
          IF v_used - v_freed + p_amount <= v_rate_limit THEN
            RETURN QUERY SELECT 'rate_limited'::varchar, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint,
              '[]'::jsonb, GREATEST(1, ceil((m + 60) * 60 - extract(epoch FROM now())))::integer;
            RETURN;
          END IF;
        END LOOP;
        RETURN QUERY SELECT 'rate_limited'::varchar, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint,
                            '[]'::jsonb, 3600;
        RETURN;
      END IF;
    END IF;

    FOR r IN
      SELECT c.id, c.remaining_credits FROM credit_allocations c
       WHERE c.user_id = p_user_id AND c.expires_at > now() AND c.remaining_credits > 0
       ORDER BY c.expires_at, c.allocated_at, c.id
         FOR UPDATE
    LOOP
      v_ids := v_ids || r.id;
      v_rem := v_rem || r.remaining_credits;
      v_available := v_available + r.remaining_credits;
    END LOOP;
    IF p_mode = 'collect' THEN
      v_headroom := p_amount; -- a reviewed shortfall: what the balance cannot pay is debt, whatever the limit
    ELSIF p_kind = 'debit' THEN
      v_headroom := GREATEST(COALESCE(acc.overdraft_limit, 0) - COALESCE(acc.debt, 0), 0);
    END IF;
    IF v_strict AND v_available + v_headroom < p_amount THEN
      RETURN QUERY SELECT 'insufficient'::varchar, v_available, v_headroom, 0::bigint, 0::bigint, v_available,
                          '[]'::jsonb, NULL::integer;
      RETURN;
    END IF;

    v_left := LEAST(p_amount, v_available);
    v_balance := v_available;
    FOR i IN 1 .. coalesce(array_length(v_ids, 1), 0) LOOP
      EXIT WHEN v_left = 0;
      v_part := LEAST(v_left, v_rem[i]);
      v_left := v_left - v_part;
      v_balance := v_balance - v_part;
      v_take_ids := v_take_ids || v_ids[i];
      v_take_amounts := v_take_amounts || v_part;
      v_take_balances := v_take_balances || v_balance;
    END LOOP;
    IF array_length(v_take_ids, 1) > 0 THEN
      WITH v AS (
        SELECT * FROM unnest(v_take_ids, v_take_amounts, v_take_balances) WITH ORDINALITY AS t(allocation_id, amount, balance_after, ord)),
      upd AS (
        UPDATE credit_allocations c SET remaining_credits = c.remaining_credits - v.amount
          FROM v WHERE c.id = v.allocation_id)
      INSERT INTO credit_ledger (user_id, allocation_id, kind, amount, balance_after, session_id, usage_record_id, created_by)
      SELECT p_user_id, v.allocation_id, p_kind, -v.amount, v.balance_after, p_session_id, p_usage_record_id, p_created_by
        FROM v ORDER BY v.ord;
    END IF;

    v_new_debt := LEAST(p_amount - (v_available - v_balance), v_headroom);
    IF v_new_debt > 0 THEN
      INSERT INTO credit_ledger (user_id, allocation_id, kind, amount, balance_after, session_id, usage_record_id, created_by)
      VALUES (p_user_id, NULL, 'overdraft', -v_new_debt, v_balance, p_session_id, p_usage_record_id, p_created_by);
    END IF;

    IF v_new_debt > 0 OR (v_rate_limit IS NOT NULL AND v_strict AND p_amount > 0) THEN
      IF v_window IS NOT NULL THEN
        v_window[(v_minute % 60) + 1] := v_window[(v_minute % 60) + 1] + p_amount;
      END IF;
      INSERT INTO credit_accounts AS c (user_id, debt, spend_minute, spend_window)
      VALUES (p_user_id, v_new_debt, CASE WHEN v_window IS NULL THEN 0 ELSE v_minute END,
              COALESCE(v_window, array_fill(0, ARRAY[60])))
      ON CONFLICT (user_id) DO UPDATE
        SET debt = c.debt + v_new_debt,
            spend_minute = CASE WHEN v_window IS NULL THEN c.spend_minute ELSE v_minute END,
            spend_window = COALESCE(v_window, c.spend_window),
            updated_at = now();
    END IF;

    IF v_key_limit IS NOT NULL THEN
      v_charged := (v_available - v_balance) + v_new_debt;
      INSERT INTO credit_key_spend AS s (api_key_id, period_start, spent) VALUES (p_api_key_id, v_key_start, v_charged)
      ON CONFLICT (api_key_id) DO UPDATE
        SET spent = CASE WHEN s.period_start = EXCLUDED.period_start THEN s.spent + EXCLUDED.spent ELSE EXCLUDED.spent END,
            period_start = EXCLUDED.period_start;
      IF v_key_spent < v_key_limit AND v_key_spent + v_charged >= v_key_limit THEN
        PERFORM emit_event('api_key.limit_reached', p_user_id, jsonb_build_object(
          'userId', p_user_id, 'apiKeyId', p_api_key_id, 'creditLimit', v_key_limit, 'limitPeriod', v_key_period));
      END IF;
    END IF;

    IF v_balance < v_available THEN
      PERFORM credit_balance_alerts(p_user_id, v_available, v_balance, COALESCE(acc.low_balance_thresholds, p_thresholds));
    END IF;

    RETURN QUERY SELECT 'ok'::varchar, v_available, v_headroom, v_available - v_balance, v_new_debt, v_balance,
      COALESCE((SELECT jsonb_agg(jsonb_build_object('allocationId', t.allocation_id, 'amount', t.amount) ORDER BY t.ord)
                  FROM unnest(v_take_ids, v_take_amounts) WITH ORDINALITY AS t(allocation_id, amount, ord)), '[]'::jsonb),
      NULL::integer;
  END $$`;
