/**
 * Whether the user's live subscription is to the plan in parameter `planParam` (e.g. `$2`), as a
 * SQL condition, for modules that filter accounts by plan.
 */
export function subscribedToPlanSql(userIdExpr: string, planParam: string): string {
  return `EXISTS (SELECT 1 FROM subscriptions sp
                   WHERE sp.user_id = ${userIdExpr} AND sp.ended_at IS NULL AND sp.plan_id = ${planParam})`;
}
