import type { AccountKind } from '../accounts/entities/account.entity.js';

/** The column of `accounts` that holds each kind of owner (its unique index is the lookup). */
const OWNER_COLUMN: Record<AccountKind, string> = { user: 'user_id', org: 'org_id' };

/**
 * The account id an owner names, as a SQL expression: what credit_account_of(kind, owner) answers
 * (src/credits/sql/), written out as the one index lookup it is, for a route's read whose account
 * kind is known when the statement is written. PostgreSQL never inlines credit_account_of() (its
 * body has subqueries) and plans its body again in every statement that calls it: three calls were
 * half the database time of GET /api/credits/balance (docs/benchmarks.md "Where the
 * reads' time went"). `ownerExpr` is a parameter or a column; `kind` only picks one of two fixed
 * column names, so no caller's text reaches the statement.
 */
export function accountIdSql(ownerExpr: string, kind: AccountKind): string {
  return `(SELECT account_id FROM accounts WHERE ${OWNER_COLUMN[kind]} = ${ownerExpr})`;
}

/**
 * The account id an owner names when its kind is known only when the statement runs (`kindExpr`, a
 * parameter or column holding 'user' or 'org'): how a statement resolves the account it hands to an
 * engine function (src/credits/sql/), which takes account ids only. Each branch is the one index
 * lookup of accountIdSql(); the other one is cut off by its constant condition. NULL when the owner
 * has no account (the engine answers no_account, no_source, … for it).
 */
export function accountIdOfKindSql(ownerExpr: string, kindExpr: string): string {
  return `(SELECT a.account_id FROM accounts a WHERE a.user_id = ${ownerExpr} AND ${kindExpr}::varchar = 'user'
           UNION ALL
           SELECT a.account_id FROM accounts a WHERE a.org_id = ${ownerExpr} AND ${kindExpr}::varchar = 'org')`;
}

/**
 * An account's available credits as a SQL expression (unexpired allocations' remaining credits; held
 * credits are already out of them), for modules that report a balance next to other columns: the
 * credits module's one rule, credit_available() (src/credits/sql/). The account is named by its
 * owner (`ownerExpr`, a user id or, with kind `org`, an org id).
 */
export function availableCreditsSql(ownerExpr: string, kind: AccountKind = 'user'): string {
  return `credit_available(credit_account_of('${kind}', ${ownerExpr}))`;
}

/** Credits held by the account's open streaming holds (already out of the available credits). */
export function heldCreditsSql(ownerExpr: string, kind: AccountKind = 'user'): string {
  return `(SELECT COALESCE(SUM(ch.outstanding), 0)::bigint FROM credit_holds ch
            WHERE ch.account_id = credit_account_of('${kind}', ${ownerExpr}) AND ch.settled_at IS NULL)`;
}

/** What the account owes (credits spent beyond the balance through the overdraft); 0 without settings. */
export function debtSql(ownerExpr: string, kind: AccountKind = 'user'): string {
  return `COALESCE((SELECT cc.debt FROM credit_accounts cc WHERE cc.account_id = credit_account_of('${kind}', ${ownerExpr})), 0)::bigint`;
}

/**
 * What the account could spend now: its available credits plus what its overdraft still covers
 * (credit_headroom()), as /check's spendable and the charges' decision count it.
 */
export function spendableCreditsSql(ownerExpr: string, kind: AccountKind = 'user'): string {
  return `(${availableCreditsSql(ownerExpr, kind)}
           + COALESCE((SELECT credit_headroom(cc.overdraft_limit, cc.debt) FROM credit_accounts cc
                        WHERE cc.account_id = credit_account_of('${kind}', ${ownerExpr})), 0))::bigint`;
}

/**
 * A metered feature's use in the period of `period` containing `at` (docs/features.md), as a table of
 * one row (`spent`) to read in FROM: the credits module's cap counter, read for the features module's
 * check and list statements.
 */
export const featureUseSql = (featureKey: string, accountId: string, period: string, at: string): string =>
  `credit_cap_spent('feature', ${featureKey}, ${accountId}, ${period}, ${at})`;
