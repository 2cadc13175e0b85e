import { Injectable } from '@nestjs/common';

import type { HeavyReadConnection } from '../database/heavy-reads.js';

/** One sum of movements: of a period (null: booked before the range) and an account (null: all). */
export interface MovementSum {
  period: Date | null;
  account_id: string | null;
  promotional: boolean;
  category: string;
  value: string | null;
  credits: string;
}

/** What a dispute froze, summed like MovementSum (valued lots only). */
export interface FrozenSum {
  period: Date | null;
  account_id: string | null;
  value: string;
}

/**
 * The movements finance counts (docs/finance.md), for currency $1 booked before $2: every categorized
 * ledger line at its booking instant (an expiry at its allocation's expires_at), and the hold and
 * release lines of each settled session as `recognized` at its settlement (a hold has not consumed
 * anything until then). Valued lines of the currency, and promotional lines (no currency) when $3.
 * Each branch reads an index: credit_ledger_finance_idx, credit_holds_settled_idx with the ledger's
 * session index. `only` (a condition on l.account_id, e.g. ` AND l.account_id = ANY ($6::bigint[])`):
 * only those accounts' lines, read by credit_ledger_account_idx.
 */
function movementsSql(only = ''): string {
  return `
  SELECT COALESCE(l.booked_at, l.created_at) AS at, l.account_id, false AS promotional, l.category,
         l.value_minor, l.amount
    FROM credit_ledger l
   WHERE l.category IS NOT NULL AND l.currency = $1 AND COALESCE(l.booked_at, l.created_at) < $2${only}
  UNION ALL
  SELECT COALESCE(l.booked_at, l.created_at), l.account_id, true, l.category, NULL, l.amount
    FROM credit_ledger l
   WHERE $3 AND l.category IS NOT NULL AND l.currency IS NULL AND COALESCE(l.booked_at, l.created_at) < $2${only}
  UNION ALL
  SELECT h.settled_at, l.account_id, l.currency IS NULL, 'recognized', l.value_minor, l.amount
    FROM credit_holds h
    JOIN credit_ledger l ON l.session_id = h.session_id AND l.account_id = h.account_id AND l.kind IN ('hold', 'release')
   WHERE h.settled_at < $2 AND (l.currency = $1 OR ($3 AND l.currency IS NULL))${only}`;
}

/** The lowest account id: a page "after" it starts at the first account. */
const BEFORE_FIRST = '-9223372036854775808';

/**
 * The reads of the finance reports over the ledger (the figures: the finance module). They sum much
 * of the ledger, so they run as heavy reads (src/database/heavy-reads.ts), on the connection given.
 */
@Injectable()
export class CreditFinanceRepository {
  /**
   * The movements of `currency` before `to` summed by period (the one of `starts`, ascending, each
   * runs to the next; those before the first: period null, the opening), by category, valued and
   * promotional apart, by account when `byAccount` (only `accounts` when given).
   */
  movements(
    db: HeavyReadConnection,
    input: {
      currency: string;
      starts: Date[];
      to: Date;
      byAccount: boolean;
      promotional: boolean;
      accounts?: string[];
    },
  ): Promise<MovementSum[]> {
    // width_bucket() over the periods' starts: a binary search per line (0: before the first, the
    // opening), much cheaper than truncating each instant in a time zone.
    const params = [input.currency, input.to, input.promotional, input.starts, input.byAccount];
    return db.query(
      `SELECT ($4::timestamptz[])[NULLIF(b.bucket, 0)] AS period, b.account_id, b.promotional, b.category,
              b.value, b.credits
         FROM (SELECT width_bucket(m.at, $4::timestamptz[]) AS bucket, CASE WHEN $5 THEN m.account_id END AS account_id,
                      m.promotional, m.category, sum(m.value_minor)::text AS value, sum(m.amount)::text AS credits
                 FROM (${movementsSql(input.accounts && ' AND l.account_id = ANY ($6::bigint[])')}) m
                GROUP BY 1, 2, 3, 4) b`,
      input.accounts ? [...params, input.accounts] : params,
    );
  }

  /** The money disputes froze of `currency` by period (null: before the first start), as movements() sums. */
  frozen(
    db: HeavyReadConnection,
    input: { currency: string; starts: Date[]; to: Date; byAccount: boolean; accounts?: string[] },
  ): Promise<FrozenSum[]> {
    const only = input.accounts ? ' AND l.account_id = ANY ($5::bigint[])' : '';
    const params = [input.currency, input.to, input.starts, input.byAccount];
    return db.query<FrozenSum>(
      `SELECT ($3::timestamptz[])[NULLIF(width_bucket(l.created_at, $3::timestamptz[]), 0)] AS period,
              CASE WHEN $4 THEN l.account_id END AS account_id, (-sum(l.value_minor))::text AS value
         FROM credit_ledger l
        WHERE l.kind IN ('freeze', 'unfreeze') AND l.currency = $1 AND l.created_at < $2${only}
        GROUP BY 1, 2`,
      input.accounts ? [...params, input.accounts] : params,
    );
  }

  /**
   * One page of the accounts a roll-forward of `currency` over [from, to) shows: in id order after
   * `after`, at most `limit`, those with a movement in the range (valued or promotional) or something
   * left at `from` (credits, money or promotional credits). The accounts are walked in id order and
   * each one's lines summed alone (its index), until the page is full: a page reads its accounts'
   * lines (and those of the accounts it passes over), never every account's. Only ids leave it.
   */
  rollForwardAccounts(
    db: HeavyReadConnection,
    input: { currency: string; from: Date; to: Date; after: string | null; limit: number },
  ): Promise<string[]> {
    return db
      .query<{ account_id: string }>(
        `SELECT a.account_id::text AS account_id
           FROM accounts a
          CROSS JOIN LATERAL (
                SELECT bool_or(m.at >= $4)
                    OR sum(m.amount) FILTER (WHERE m.at < $4 AND m.promotional) <> 0
                    OR sum(m.amount) FILTER (WHERE m.at < $4 AND NOT m.promotional) <> 0
                    OR sum(m.value_minor) FILTER (WHERE m.at < $4) <> 0 AS shown
                  FROM (${movementsSql(' AND l.account_id = a.account_id')}) m) s
          WHERE a.account_id > $5::bigint AND s.shown
          ORDER BY a.account_id
          LIMIT $6`,
        [input.currency, input.to, true, input.from, input.after ?? BEFORE_FIRST, input.limit],
      )
      .then((rows) => rows.map((r) => r.account_id));
  }

  /**
   * One page of the accounts' valued credits and money of `currency` left at `at` (the movements
   * before it): in id order after `after`, at most `limit`, those with anything left.
   */
  liability(
    db: HeavyReadConnection,
    input: { currency: string; at: Date; after: string | null; limit: number },
  ): Promise<{ account_id: string; credits: string; value: string }[]> {
    return db.query(
      `SELECT m.account_id::text AS account_id, sum(m.amount)::text AS credits, sum(m.value_minor)::text AS value
         FROM (${movementsSql()}) m
        WHERE NOT m.promotional AND m.account_id > $4::bigint
        GROUP BY m.account_id
       HAVING sum(m.amount) <> 0 OR sum(m.value_minor) <> 0
        ORDER BY m.account_id
        LIMIT $5`,
      [input.currency, input.at, false, input.after ?? BEFORE_FIRST, input.limit],
    );
  }

  /** All accounts' money of `currency` left at `at`: the liability's total. */
  async liabilityTotal(db: HeavyReadConnection, currency: string, at: Date): Promise<string> {
    const [row] = await db.query<{ value: string }>(
      `SELECT COALESCE(sum(m.value_minor), 0)::text AS value FROM (${movementsSql()}) m WHERE NOT m.promotional`,
      [currency, at, false],
    );
    return row.value;
  }

  /** Who the accounts are: a user's id or an organisation's. */
  owners(
    db: HeavyReadConnection,
    accountIds: string[],
  ): Promise<{ account_id: string; user_id: string | null; org_id: string | null }[]> {
    return db.query(
      `SELECT a.account_id::text AS account_id, a.user_id, a.org_id FROM accounts a WHERE a.account_id = ANY ($1::bigint[])`,
      [accountIds],
    );
  }
}
