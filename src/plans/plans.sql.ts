/**
 * Whether the account's live subscription (the one that carries the account, `account_id`) is to the
 * plan in parameter `planParam` (e.g. `$2`), as a SQL condition, for modules that filter accounts by plan.
 */
export function subscribedToPlanSql(accountIdExpr: string, planParam: string): string {
  return `EXISTS (SELECT 1 FROM subscriptions sp
                   WHERE sp.account_id = ${accountIdExpr} AND sp.ended_at IS NULL AND sp.plan_id = ${planParam})`;
}
