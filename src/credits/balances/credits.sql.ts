/**
 * An account's available credits as a SQL expression (unexpired allocations' remaining credits; held
 * credits are already out of them), for modules that report a balance next to other columns: the
 * credits module's one rule, credit_available() (src/engine/sql/). `accountIdExpr` is the account id
 * (`accounts.account_id`; a list naming owners joins it with src/accounts/accounts.sql.ts).
 */
export function availableCreditsSql(accountIdExpr: string): string {
  return `credit_available(${accountIdExpr})`;
}

/** Credits held by the account's open streaming holds (already out of the available credits). */
export function heldCreditsSql(accountIdExpr: string): string {
  return `(SELECT COALESCE(SUM(ch.outstanding), 0)::bigint FROM credit_holds ch
            WHERE ch.account_id = ${accountIdExpr} AND ch.settled_at IS NULL)`;
}

/** What the account owes (credits spent beyond the balance through the overdraft); 0 without settings. */
export function debtSql(accountIdExpr: string): string {
  return `COALESCE((SELECT cc.debt FROM credit_accounts cc WHERE cc.account_id = ${accountIdExpr}), 0)::bigint`;
}

/**
 * What the account could spend now: its available credits plus what its overdraft still covers
 * (credit_headroom()), as /check's spendable and the charges' decision count it.
 */
export function spendableCreditsSql(accountIdExpr: string): string {
  return `(${availableCreditsSql(accountIdExpr)}
           + COALESCE((SELECT credit_headroom(cc.overdraft_limit, cc.debt) FROM credit_accounts cc
                        WHERE cc.account_id = ${accountIdExpr}), 0))::bigint`;
}

/**
 * A metered feature's use in the period of `period` containing `at` (docs/features.md), as a table of
 * one row (`spent`) to read in FROM: the credits module's cap counter, read for the features module's
 * check and list statements.
 */
export const featureUseSql = (featureKey: string, accountId: string, period: string, at: string): string =>
  `credit_cap_spent('feature', ${featureKey}, ${accountId}, ${period}, ${at})`;
