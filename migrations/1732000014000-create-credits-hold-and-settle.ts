import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The streaming hot path in one statement each (docs/money.md "Streaming sessions"): the hold and the
 * settlement of a session as PL/pgSQL functions, so a route sends ONE statement that does the money
 * and, around it, writes its own rows (the session, the usage record) in the same statement.
 *
 * - `credits_hold()`: credits_take() with kind `hold`, then the session's `credit_holds` row (the
 *   budgeted key and its period read after the take counted it). A hold row that is settled or
 *   another user's refuses the hold with unique_violation (23505): nothing is written.
 * - `credits_give_back()`: what CreditsService.giveBack did in TypeScript: `amount` of a session's
 *   held credits back to the allocations they came from, latest expiry first, each allocation's
 *   remaining and its ledger line written together; credits given back to an allocation that expired
 *   or was voided meanwhile leave again at once (`release` then `expire`/`void`).
 * - `credits_settle_hold()`: settleHold: keeps `charge` of the hold, gives the rest back (also to
 *   the budgeted key the hold counted against) and marks the hold settled.
 * - `credits_settle()`: a streaming settlement's money: the hold settled as above (when the session
 *   holds anything), the overrun (charge beyond the hold) taken with credits_take() in mode `up_to`
 *   (balance, then overdraft) through the hold's key, the rest answered as the shortfall.
 *
 * Each is VOLATILE plpgsql like credits_take(): every statement inside takes a fresh snapshot, so
 * what it reads after the account lock includes the previous lock holder's commit. Lock order is
 * credits_take()'s and settleHold's: the account row, then the hold row, then allocations.
 */
export class CreateCreditsHoldAndSettle1732000014000 implements MigrationInterface {
  name = 'CreateCreditsHoldAndSettle1732000014000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(CREDITS_HOLD);
    await q.query(CREDITS_GIVE_BACK);
    await q.query(CREDITS_SETTLE_HOLD);
    await q.query(CREDITS_SETTLE);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION credits_settle(varchar, varchar, integer, varchar, uuid, integer, integer[])`);
    await q.query(`DROP FUNCTION credits_settle_hold(varchar, varchar, integer, varchar, uuid)`);
    await q.query(`DROP FUNCTION credits_give_back(varchar, varchar, integer, varchar, uuid)`);
    await q.query(`DROP FUNCTION credits_hold(varchar, integer, varchar, varchar, uuid, integer, integer[])`);
  }
}

/**
 * $1 user, $2 amount, $3 session, $4 created by, $5 API key, $6 default hourly limit, $7 default
 * alert thresholds. Answers credits_take()'s row; on `ok` the hold row was added to (or created).
 */
const CREDITS_HOLD = `
  CREATE FUNCTION credits_hold(
    p_user_id varchar, p_amount integer, p_session_id varchar, p_created_by varchar,
    p_api_key_id uuid, p_rate_default integer, p_thresholds integer[])
  RETURNS TABLE (out_status varchar, out_available bigint, out_headroom bigint, out_collected bigint,
                 out_debt bigint, out_balance_after bigint, out_parts jsonb, out_retry_after integer)
  LANGUAGE plpgsql VOLATILE AS $$
  DECLARE
    t record;
  BEGIN
    IF p_session_id IS NULL THEN
      RAISE EXCEPTION 'credits_hold: a hold needs a session';
    END IF;
    SELECT * INTO t FROM credits_take(p_user_id, p_amount, 'hold', 'strict', p_session_id, NULL, p_created_by,
                                      p_api_key_id, p_rate_default, p_thresholds);
    IF t.out_status = 'ok' THEN
      -- The key's period as credits_take() just counted it, so a settlement gives the unused part
      -- back to that period only.
      INSERT INTO credit_holds AS h (session_id, user_id, outstanding, api_key_id, key_period_start)
      SELECT p_session_id, p_user_id, p_amount, s.api_key_id, s.period_start
        FROM (SELECT p_api_key_id AS id) k LEFT JOIN credit_key_spend s ON s.api_key_id = k.id
      ON CONFLICT (session_id) DO UPDATE SET outstanding = h.outstanding + EXCLUDED.outstanding
       WHERE h.user_id = EXCLUDED.user_id AND h.settled_at IS NULL;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'credits_hold: session % has a settled hold or is another user''s', p_session_id
          USING ERRCODE = 'unique_violation';
      END IF;
    END IF;
    RETURN QUERY SELECT t.out_status, t.out_available, t.out_headroom, t.out_collected, t.out_debt,
                        t.out_balance_after, t.out_parts, t.out_retry_after;
  END $$`;

/**
 * $1 user, $2 amount, $3 session, $4 created by, $5 usage record. The caller holds the account lock
 * and the hold row's lock. Answers the credits written per kind (release +, expire and void −).
 */
const CREDITS_GIVE_BACK = `
  CREATE FUNCTION credits_give_back(
    p_user_id varchar, p_session_id varchar, p_amount integer, p_created_by varchar, p_usage_record_id uuid)
  RETURNS TABLE (out_released bigint, out_expired bigint, out_voided bigint)
  LANGUAGE plpgsql VOLATILE AS $$
  DECLARE
    r record;
    v_left bigint := p_amount;
    v_give integer;
    v_balance bigint;
    v_ids uuid[] := '{}';
    v_amounts integer[] := '{}';
    v_balances bigint[] := '{}';
    v_kinds varchar[] := '{}';
  BEGIN
    IF p_amount IS NULL OR p_amount < 0 THEN
      RAISE EXCEPTION 'credits_give_back: amount must be a non-negative integer';
    END IF;
    IF p_amount = 0 THEN
      RETURN QUERY SELECT 0::bigint, 0::bigint, 0::bigint;
      RETURN;
    END IF;
    SELECT COALESCE(SUM(c.remaining_credits), 0) INTO v_balance
      FROM credit_allocations c WHERE c.user_id = p_user_id AND c.expires_at > now();
    -- What the session still holds per allocation, latest expiry first (ties: newest allocation).
    FOR r IN
      SELECT l.allocation_id, (-SUM(l.amount))::bigint AS outstanding,
             a.expires_at > now() AND a.voided_at IS NULL AS live, a.voided_at IS NOT NULL AS voided
        FROM credit_ledger l JOIN credit_allocations a ON a.id = l.allocation_id
       WHERE l.session_id = p_session_id AND l.user_id = p_user_id AND l.kind IN ('hold', 'release')
       GROUP BY l.allocation_id, a.expires_at, a.allocated_at, a.voided_at
      HAVING SUM(l.amount) < 0
       ORDER BY a.expires_at DESC, a.allocated_at DESC, l.allocation_id DESC
    LOOP
      EXIT WHEN v_left = 0;
      v_give := LEAST(v_left, r.outstanding);
      v_left := v_left - v_give;
      IF r.live THEN v_balance := v_balance + v_give; END IF;
      v_ids := v_ids || r.allocation_id; v_amounts := v_amounts || v_give;
      v_balances := v_balances || v_balance; v_kinds := v_kinds || 'release'::varchar;
      IF NOT r.live THEN
        -- Dead credits never look spendable: they leave again at once.
        v_ids := v_ids || r.allocation_id; v_amounts := v_amounts || -v_give;
        v_balances := v_balances || v_balance;
        v_kinds := v_kinds || CASE WHEN r.voided THEN 'void' ELSE 'expire' END::varchar;
      END IF;
    END LOOP;
    IF v_left > 0 THEN
      RAISE EXCEPTION 'credits_give_back: % credits more than session % holds', v_left, p_session_id;
    END IF;

    WITH v AS (
      SELECT * FROM unnest(v_ids, v_amounts, v_balances, v_kinds) WITH ORDINALITY
                    AS v(allocation_id, amount, balance_after, kind, ord)),
    net AS (SELECT v.allocation_id, SUM(v.amount)::int AS amount FROM v GROUP BY v.allocation_id),
    upd AS (
      UPDATE credit_allocations a SET remaining_credits = a.remaining_credits + net.amount,
             -- credits put back make the allocation due for the expiry job again
             expiry_done = a.expiry_done AND net.amount < 0
        FROM net WHERE a.id = net.allocation_id AND net.amount <> 0)
    INSERT INTO credit_ledger (user_id, allocation_id, kind, amount, balance_after, session_id, usage_record_id, created_by)
    SELECT p_user_id, v.allocation_id, v.kind, v.amount, v.balance_after, p_session_id, p_usage_record_id, p_created_by
      FROM v ORDER BY v.ord;

    RETURN QUERY
      SELECT COALESCE(SUM(v.amount) FILTER (WHERE v.kind = 'release'), 0)::bigint,
             COALESCE(SUM(v.amount) FILTER (WHERE v.kind = 'expire'), 0)::bigint,
             COALESCE(SUM(v.amount) FILTER (WHERE v.kind = 'void'), 0)::bigint
        FROM unnest(v_amounts, v_kinds) AS v(amount, kind);
  END $$`;

/**
 * $1 user, $2 charge, … : settles the session's hold, keeping min(held, charge). Status ok |
 * already_settled | not_found (the hold is another user's); only `ok` wrote anything.
 */
const CREDITS_SETTLE_HOLD = `
  CREATE FUNCTION credits_settle_hold(
    p_user_id varchar, p_session_id varchar, p_charge integer, p_created_by varchar, p_usage_record_id uuid)
  RETURNS TABLE (out_status varchar, out_held bigint, out_refund bigint, out_api_key_id uuid,
                 out_released bigint, out_expired bigint, out_voided bigint)
  LANGUAGE plpgsql VOLATILE AS $$
  DECLARE
    g record;
    v_found boolean;
    v_outstanding integer;
    v_settled boolean;
    v_owner varchar;
    v_key uuid;
    v_held bigint := 0;
    v_refund bigint;
  BEGIN
    IF p_charge IS NULL OR p_charge < 0 THEN
      RAISE EXCEPTION 'credits_settle_hold: charge must be a non-negative integer';
    END IF;
    PERFORM 1 FROM user_accounts a WHERE a.user_id = p_user_id FOR NO KEY UPDATE;
    SELECT c.outstanding, c.settled_at IS NOT NULL, c.user_id, c.api_key_id INTO v_outstanding, v_settled, v_owner, v_key
      FROM credit_holds c WHERE c.session_id = p_session_id FOR UPDATE;
    v_found := FOUND;
    IF v_found AND v_owner <> p_user_id THEN
      RETURN QUERY SELECT 'not_found'::varchar, 0::bigint, 0::bigint, NULL::uuid, 0::bigint, 0::bigint, 0::bigint;
      RETURN;
    END IF;
    IF v_found AND v_settled THEN
      RETURN QUERY SELECT 'already_settled'::varchar, 0::bigint, 0::bigint, NULL::uuid, 0::bigint, 0::bigint, 0::bigint;
      RETURN;
    END IF;
    v_held := COALESCE(v_outstanding, 0);
    v_refund := GREATEST(0, v_held - p_charge);
    SELECT * INTO g FROM credits_give_back(p_user_id, p_session_id, v_refund::int, p_created_by, p_usage_record_id);
    IF v_refund > 0 THEN
      UPDATE credit_key_spend s SET spent = GREATEST(s.spent - v_refund, 0)
        FROM credit_holds c
       WHERE c.session_id = p_session_id AND s.api_key_id = c.api_key_id AND s.period_start = c.key_period_start;
    END IF;
    INSERT INTO credit_holds (session_id, user_id, outstanding, settled_at) VALUES (p_session_id, p_user_id, 0, now())
    ON CONFLICT (session_id) DO UPDATE SET outstanding = 0, settled_at = now();
    RETURN QUERY SELECT 'ok'::varchar, v_held, v_refund, v_key, g.out_released, g.out_expired, g.out_voided;
  END $$`;

/**
 * $1 user, $2 session, $3 charge, $4 created by, $5 usage record, $6 default hourly limit, $7
 * default alert thresholds. Status ok | already_settled | not_found (as credits_settle_hold()).
 * `out_kept` is what the hold paid, `out_collected` + `out_debt` what the overrun took from the
 * balance and the overdraft, `out_shortfall` what nobody paid.
 */
const CREDITS_SETTLE = `
  CREATE FUNCTION credits_settle(
    p_user_id varchar, p_session_id varchar, p_charge integer, p_created_by varchar, p_usage_record_id uuid,
    p_rate_default integer, p_thresholds integer[])
  RETURNS TABLE (out_status varchar, out_held bigint, out_kept bigint, out_refund bigint, out_collected bigint,
                 out_debt bigint, out_shortfall bigint, out_released bigint, out_expired bigint, out_voided bigint)
  LANGUAGE plpgsql VOLATILE AS $$
  DECLARE
    h record;
    t record;
    v_overrun bigint;
    v_collected bigint := 0;
    v_debt bigint := 0;
  BEGIN
    IF EXISTS (SELECT 1 FROM credit_holds c WHERE c.session_id = p_session_id) THEN
      SELECT * INTO h FROM credits_settle_hold(p_user_id, p_session_id, p_charge, p_created_by, p_usage_record_id);
      IF h.out_status <> 'ok' THEN
        RETURN QUERY SELECT h.out_status, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint,
                            0::bigint, 0::bigint, 0::bigint;
        RETURN;
      END IF;
    ELSE
      -- A session that held nothing (an estimate of 0): its whole charge is the overrun.
      SELECT 'ok'::varchar AS out_status, 0::bigint AS out_held, 0::bigint AS out_refund, NULL::uuid AS out_api_key_id,
             0::bigint AS out_released, 0::bigint AS out_expired, 0::bigint AS out_voided INTO h;
    END IF;
    -- The overrun is owed, not asked: neither the key budget nor the spend rate refuses it (up_to),
    -- and it counts against the key the hold counted against.
    v_overrun := p_charge - (h.out_held - h.out_refund);
    IF v_overrun > 0 THEN
      SELECT * INTO t FROM credits_take(p_user_id, v_overrun::int, 'debit', 'up_to', p_session_id, p_usage_record_id,
                                        p_created_by, h.out_api_key_id, p_rate_default, p_thresholds);
      v_collected := t.out_collected;
      v_debt := t.out_debt;
    END IF;
    RETURN QUERY SELECT 'ok'::varchar, h.out_held, h.out_held - h.out_refund, h.out_refund, v_collected, v_debt,
                        GREATEST(v_overrun, 0) - v_collected - v_debt, h.out_released, h.out_expired, h.out_voided;
  END $$`;
