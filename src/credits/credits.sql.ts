/**
 * A user's available credits as a SQL expression (unexpired allocations' remaining credits; held
 * credits are already out of them), for modules that report a balance next to other columns.
 */
export function availableCreditsSql(userIdExpr: string): string {
  return `(SELECT COALESCE(SUM(ca.remaining_credits), 0)::bigint FROM credit_allocations ca
            WHERE ca.user_id = ${userIdExpr} AND ca.expires_at > now())`;
}
