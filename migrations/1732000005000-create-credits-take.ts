import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * credits_take(): the FIFO take of CreditsService (debit, debitUpTo, hold) as ONE round trip
 * instead of three (lock the account row, lock the spendable allocations, write).
 *
 * It is a VOLATILE PL/pgSQL function on purpose: under READ COMMITTED every statement inside it
 * takes a fresh snapshot, so the allocations are read AFTER the account-row lock is granted and see
 * every movement the previous lock holder committed (a single CTE statement could not: its snapshot
 * is taken before it waits for the lock). Semantics are those of the former three statements:
 *   - lock the user's account row first (per-user serialisation);
 *   - lock the unexpired allocations with credits, soonest expiry first (ties: oldest allocation, id);
 *   - strict and short: write nothing, return what is available (the caller throws 402);
 *   - else take min(amount, available) FIFO: one ledger entry per allocation touched, ascending ids
 *     in FIFO order, balance_after = available minus what has been taken so far.
 * Returns available (before), collected, balance_after and the parts taken as [{allocationId, amount}].
 */
export class CreateCreditsTake1732000005000 implements MigrationInterface {
  name = 'CreateCreditsTake1732000005000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION credits_take(
        p_user_id varchar, p_amount integer, p_kind varchar, p_strict boolean,
        p_session_id varchar, p_usage_record_id uuid, p_created_by varchar)
      RETURNS TABLE (out_available bigint, out_collected bigint, out_balance_after bigint, out_parts jsonb)
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        r record;
        v_available bigint := 0;
        v_left bigint;
        v_balance bigint;
        v_part integer;
        v_ids uuid[] := '{}';
        v_rem integer[] := '{}';
        v_take_ids uuid[] := '{}';
        v_take_amounts integer[] := '{}';
        v_take_balances bigint[] := '{}';
      BEGIN
        IF p_amount IS NULL OR p_amount < 0 THEN
          RAISE EXCEPTION 'credits_take: amount must be a non-negative integer';
        END IF;
        PERFORM 1 FROM user_accounts a WHERE a.user_id = p_user_id FOR UPDATE;
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
        IF p_strict AND v_available < p_amount THEN
          RETURN QUERY SELECT v_available, 0::bigint, v_available, '[]'::jsonb;
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
        RETURN QUERY SELECT v_available, v_available - v_balance, v_balance,
          COALESCE((SELECT jsonb_agg(jsonb_build_object('allocationId', t.allocation_id, 'amount', t.amount) ORDER BY t.ord)
                      FROM unnest(v_take_ids, v_take_amounts) WITH ORDINALITY AS t(allocation_id, amount, ord)), '[]'::jsonb);
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION credits_take(varchar, integer, varchar, boolean, varchar, uuid, varchar)`);
  }
}
