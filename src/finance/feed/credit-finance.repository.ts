import { Injectable } from '@nestjs/common';

import { rescaleSql } from '../../common/money/currencies.js';
import type { HeavyReadConnection } from '../../database/heavy-reads.js';

/** One sum of movements: of a period (null: booked before the range) and an account (null: all). */
export interface MovementSum {
  period: Date | null;
  account_id: string | null;
  promotional: boolean;
  category: string;
  value: string | null;
  credits: string;
}

/** Which ledger lines the day sums cover: created_xid below `xid` (or none) and id at most `id` (credit_ledger_days_filled). */
export interface DaysCover {
  xid: string;
  id: string;
}

/** What a dispute froze, summed like MovementSum (valued lots only). */
export interface FrozenSum {
  period: Date | null;
  account_id: string | null;
  value: string;
}

/** When finance books a categorized line: an expiry at its allocation's expires_at (booked_at), the rest when written. */
export const MOVED_AT = 'COALESCE(l.booked_at, l.created_at)';
/** When a freeze or unfreeze line counts in the disputed money. */
export const FROZEN_AT = 'l.created_at';

/**
 * The movements finance counts (docs/finance.md), for currency $1 booked before $2: every categorized
 * ledger line at its booking instant (MOVED_AT), and the hold and release lines of each settled
 * session as `recognized` at its settlement (a hold has not consumed anything until then). Valued
 * lines of the currency (of every currency when `every`), and promotional lines (no currency) when
 * $3. Each branch reads an index: credit_ledger_finance_idx, credit_holds_settled_idx with the
 * ledger's session index. `only` (a condition on l.account_id, e.g. ` AND l.account_id = ANY
 * ($6::bigint[])`): only those accounts' lines, read by credit_ledger_account_idx. `ledger`: where the
 * ledger's lines are read from (the lines the day sums do not cover: linesOutside()); the settled
 * sessions' lines are always read whole.
 */
function movementsSql(only = '', ledger = 'credit_ledger l', every = false): string {
  const valued = every ? 'l.currency IS NOT NULL' : 'l.currency = $1';
  return `
  SELECT ${MOVED_AT} AS at, l.account_id, false AS promotional, l.category,
         l.value_minor, l.amount, l.currency
    FROM ${ledger}
   WHERE l.category IS NOT NULL AND ${valued} AND ${MOVED_AT} < $2${only}
  UNION ALL
  SELECT ${MOVED_AT}, l.account_id, true, l.category, NULL, l.amount, NULL
    FROM ${ledger}
   WHERE $3 AND l.category IS NOT NULL AND l.currency IS NULL AND ${MOVED_AT} < $2${only}
  UNION ALL
  SELECT h.settled_at, l.account_id, l.currency IS NULL, 'recognized', l.value_minor, l.amount, l.currency
    FROM credit_holds h
    JOIN credit_ledger l ON l.session_id = h.session_id AND l.account_id = h.account_id AND l.kind IN ('hold', 'release')
   WHERE h.settled_at < $2 AND (${valued} OR ($3 AND l.currency IS NULL))${only}`;
}

/** The freeze and unfreeze lines (the money disputes froze) before $2, of currency $1 (of every currency when `every`). */
function frozenSql(only = '', ledger = 'credit_ledger l', every = false): string {
  return `
  SELECT ${FROZEN_AT} AS at, l.account_id, l.value_minor, l.currency
    FROM ${ledger}
   WHERE l.kind IN ('freeze', 'unfreeze') AND ${every ? 'l.currency IS NOT NULL' : 'l.currency = $1'} AND ${FROZEN_AT} < $2${only}`;
}

/**
 * What a read sums: one currency's money as it is, or, with `reporting` (the reporting currency's
 * minor places), every currency's converted into the reporting currency $1 line by line.
 */
export interface MoneyOf {
  currency: string;
  reporting?: number | null;
}

/** The UTC day a movement of `m` is converted on. */
const DAY_OF = `(m.at AT TIME ZONE 'UTC')::date`;

/**
 * `lines` (movementsSql() or frozenSql() of every currency) with each valued line's money converted
 * into the reporting currency $1 at its own UTC day's stored rate (finance_fx_rates; the reporting
 * currency's own lines at 1) and rounded to the reporting currency's minor unit, half away from
 * zero (numeric round()): per line, so every sum of them is a sum of converted lines. The product is
 * exact (a numeric literal factor, never a division). A line of a day without a rate has no money
 * here: the reads check first that none is missing (FinanceFxReads.missingDays()).
 */
function convertedSql(lines: string, places: number): string {
  return `
  SELECT m.*, CASE WHEN m.currency IS NULL OR m.currency = $1 OR m.value_minor = 0 THEN m.value_minor
                   ELSE round(m.value_minor * r.rate * ${rescaleSql('m.currency', places)})::bigint END AS converted
    FROM (${lines}) m
    LEFT JOIN finance_fx_rates r ON r.base = $1 AND r.currency = m.currency AND r.day = ${DAY_OF}`;
}

/** The movements of `money` (movementsSql()), their money in `value_minor` (converted when reporting). */
function valuedSql(money: MoneyOf, only = '', ledger = 'credit_ledger l'): string {
  if (money.reporting == null) return movementsSql(only, ledger);
  return `SELECT c.at, c.account_id, c.promotional, c.category, c.converted AS value_minor, c.amount
            FROM (${convertedSql(movementsSql(only, ledger, true), money.reporting)}) c`;
}

/** The freeze and unfreeze lines of `money` (frozenSql()), converted when reporting. */
function frozenOf(money: MoneyOf, only = ''): string {
  if (money.reporting == null) return frozenSql(only);
  return `SELECT c.at, c.account_id, c.converted AS value_minor
            FROM (${convertedSql(frozenSql(only, 'credit_ledger l', true), money.reporting)}) c`;
}

/**
 * The UTC days before $2 on which a valued line of a currency other than $1 moved money (the
 * roll-forward's movements and the disputes' freezes) and no rate of that currency into $1 is
 * stored, each with those currencies (in code order): what a conversion into the reporting currency
 * $1 lacks. At most 1,000 days, the earliest first.
 */
export const MISSING_DAYS_SQL = `
  SELECT to_char(${DAY_OF}, 'YYYY-MM-DD') AS day, array_agg(DISTINCT m.currency::text ORDER BY m.currency::text) AS currencies
    FROM (SELECT at, currency, value_minor FROM (${movementsSql('', 'credit_ledger l', true)}) v
          UNION ALL
          SELECT at, currency, value_minor FROM (${frozenSql('', 'credit_ledger l', true)}) f) m
   WHERE m.currency <> $1 AND m.value_minor <> 0
     AND NOT EXISTS (SELECT 1 FROM finance_fx_rates r WHERE r.base = $1 AND r.currency = m.currency AND r.day = ${DAY_OF})
   GROUP BY 1
   ORDER BY 1
   LIMIT 1000`;

/**
 * The ledger lines the day sums do not cover (credit_ledger_days_filled: $n, the xid, and $n+1, the
 * id, of its cover), as `l`: the lines written since the last fill, found by the ledger's BRIN on
 * created_xid and its primary key alone. OFFSET 0 keeps the other conditions out of that scan: with
 * them the planner also read the finance index over every line of the currency, to AND its bitmap in.
 */
function linesOutside(n: number): string {
  return `(SELECT * FROM credit_ledger l WHERE l.created_xid >= $${n} OR l.id > $${n + 1} OFFSET 0) l`;
}

/** The UTC midnight starting day `d` of credit_ledger_days, for width_bucket() over the periods' starts. */
const DAY_START = `(d.day::timestamp AT TIME ZONE 'UTC')`;
/** The days before the end $2 (a UTC midnight: a roll-forward's `to`). */
const DAYS_BEFORE_END = `d.day < ($2::timestamptz AT TIME ZONE 'UTC')::date`;

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
    input: MoneyOf & {
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
                 FROM (${valuedSql(input, input.accounts && ' AND l.account_id = ANY ($6::bigint[])')}) m
                GROUP BY 1, 2, 3, 4) b`,
      input.accounts ? [...params, input.accounts] : params,
    );
  }

  /** The money disputes froze of `currency` by period (null: before the first start), as movements() sums. */
  frozen(
    db: HeavyReadConnection,
    input: MoneyOf & { starts: Date[]; to: Date; byAccount: boolean; accounts?: string[] },
  ): Promise<FrozenSum[]> {
    const only = input.accounts ? ' AND l.account_id = ANY ($5::bigint[])' : '';
    const params = [input.currency, input.to, input.starts, input.byAccount];
    return db.query<FrozenSum>(
      `SELECT ($3::timestamptz[])[NULLIF(width_bucket(f.at, $3::timestamptz[]), 0)] AS period,
              CASE WHEN $4 THEN f.account_id END AS account_id, (-sum(f.value_minor))::text AS value
         FROM (${frozenOf(input, only)}) f
        GROUP BY 1, 2`,
      input.accounts ? [...params, input.accounts] : params,
    );
  }

  /**
   * Which ledger lines the day sums cover (credit_ledger_days_filled), as this read's snapshot sees
   * them: the sums and their cover are written together, so they agree. Null: never filled.
   */
  async daysCover(db: HeavyReadConnection): Promise<DaysCover | null> {
    const [row] = await db.query<DaysCover>(
      `SELECT up_to_xid::text AS xid, up_to_id::text AS id FROM credit_ledger_days_filled WHERE id = 1`,
    );
    return row === undefined || row.id === '0' ? null : row;
  }

  /**
   * movements() of all accounts together from the day sums and the lines they do not cover: the same
   * rows, to the minor unit. Only for periods that start and end at UTC midnights (a roll-forward's),
   * since a day's sum falls whole into the period holding its midnight.
   */
  movementsOfAll(
    db: HeavyReadConnection,
    input: { currency: string; starts: Date[]; to: Date; promotional: boolean; cover: DaysCover },
  ): Promise<MovementSum[]> {
    return db.query(
      `SELECT ($4::timestamptz[])[NULLIF(b.bucket, 0)] AS period, NULL AS account_id, b.promotional, b.category,
              sum(b.value_minor)::text AS value, sum(b.credits)::text AS credits
         FROM (SELECT width_bucket(m.at, $4::timestamptz[]) AS bucket, m.promotional, m.category, m.value_minor,
                      m.amount::bigint AS credits
                 FROM (${movementsSql('', linesOutside(5))}) m
               UNION ALL
               SELECT width_bucket(${DAY_START}, $4::timestamptz[]), d.currency = '', d.category,
                      CASE WHEN d.currency <> '' THEN d.value_minor END, d.credits
                 FROM credit_ledger_days d
                WHERE d.category <> '' AND (d.currency = $1 OR ($3 AND d.currency = '')) AND ${DAYS_BEFORE_END}) b
        GROUP BY 1, 3, 4`,
      [input.currency, input.to, input.promotional, input.starts, input.cover.xid, input.cover.id],
    );
  }

  /** frozen() of all accounts together from the day sums and the lines they do not cover, as movementsOfAll(). */
  frozenOfAll(
    db: HeavyReadConnection,
    input: { currency: string; starts: Date[]; to: Date; cover: DaysCover },
  ): Promise<FrozenSum[]> {
    return db.query<FrozenSum>(
      `SELECT ($3::timestamptz[])[NULLIF(b.bucket, 0)] AS period, NULL AS account_id, (-sum(b.value_minor))::text AS value
         FROM (SELECT width_bucket(${FROZEN_AT}, $3::timestamptz[]) AS bucket, l.value_minor
                 FROM ${linesOutside(4)}
                WHERE l.kind IN ('freeze', 'unfreeze') AND l.currency = $1 AND ${FROZEN_AT} < $2
               UNION ALL
               SELECT width_bucket(${DAY_START}, $3::timestamptz[]), d.value_minor
                 FROM credit_ledger_days d
                WHERE d.category = '' AND d.currency = $1 AND ${DAYS_BEFORE_END}) b
        GROUP BY 1`,
      [input.currency, input.to, input.starts, input.cover.xid, input.cover.id],
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
    input: MoneyOf & { from: Date; to: Date; after: string | null; limit: number },
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
                  FROM (${valuedSql(input, ' AND l.account_id = a.account_id')}) m) s
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
    input: MoneyOf & { at: Date; after: string | null; limit: number },
  ): Promise<{ account_id: string; credits: string; value: string }[]> {
    return db.query(
      `SELECT m.account_id::text AS account_id, sum(m.amount)::text AS credits, sum(m.value_minor)::text AS value
         FROM (${valuedSql(input)}) m
        WHERE NOT m.promotional AND m.account_id > $4::bigint
        GROUP BY m.account_id
       HAVING sum(m.amount) <> 0 OR sum(m.value_minor) <> 0
        ORDER BY m.account_id
        LIMIT $5`,
      [input.currency, input.at, false, input.after ?? BEFORE_FIRST, input.limit],
    );
  }

  /** All accounts' money of `money` left at `at`: the liability's total. */
  async liabilityTotal(db: HeavyReadConnection, money: MoneyOf, at: Date): Promise<string> {
    const [row] = await db.query<{ value: string }>(
      `SELECT COALESCE(sum(m.value_minor), 0)::text AS value FROM (${valuedSql(money)}) m WHERE NOT m.promotional`,
      [money.currency, at, false],
    );
    return row.value;
  }

  /**
   * The UTC days before `to` whose valued lines need a rate into `reporting` that is not stored, each
   * with the currencies it lacks (MISSING_DAYS_SQL), and when the rates last changed (a page's
   * figures kept for the next pages are those of the same rates only).
   */
  async missingDays(
    db: HeavyReadConnection,
    reporting: string,
    to: Date,
  ): Promise<{ days: { day: string; currencies: string[] }[]; ratesChanged: string }> {
    const days = await db.query<{ day: string; currencies: string[] }>(MISSING_DAYS_SQL, [reporting, to, false]);
    const [stamp] = await db.query<{ changed: string }>(
      `SELECT COALESCE(max(stored_at)::text, '') || ' ' || count(*) AS changed FROM finance_fx_rates WHERE base = $1`,
      [reporting],
    );
    return { days, ratesChanged: stamp.changed };
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
