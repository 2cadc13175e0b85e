/**
 * A user's available credits as a SQL expression (unexpired allocations' remaining credits; held
 * credits are already out of them), for modules that report a balance next to other columns: the
 * credits module's one rule, credit_available() (src/credits/sql/).
 */
export function availableCreditsSql(userIdExpr: string): string {
  return `credit_available(credit_account_of('user', ${userIdExpr}))`;
}

/** Credits held by the user's open streaming holds (already out of the available credits). */
export function heldCreditsSql(userIdExpr: string): string {
  return `(SELECT COALESCE(SUM(ch.outstanding), 0)::bigint FROM credit_holds ch
            WHERE ch.account_id = credit_account_of('user', ${userIdExpr}) AND ch.settled_at IS NULL)`;
}

/** What the user owes (credits spent beyond the balance through the overdraft); 0 without settings. */
export function debtSql(userIdExpr: string): string {
  return `COALESCE((SELECT cc.debt FROM credit_accounts cc WHERE cc.account_id = credit_account_of('user', ${userIdExpr})), 0)::bigint`;
}
