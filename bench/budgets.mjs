// The budgets scenario of npm run bench (docs/budgets.md): records naming two budgets (a project's
// and a run's under it, limits far from reached, so every check runs and none refuses) against the
// same records without scopes, in interleaved rounds compared by summed requests and CPU per request.

/** Every bench user gets a project budget `bench-p` and a run budget `bench-r` under it. */
export async function seedBudgets(db, userIds) {
  await db.query(
    `INSERT INTO credit_budgets (budget_id, account_id, scope_kind, scope_id, credit_limit, created_by)
     SELECT 'bench-p-' || a.account_id, a.account_id, 'project', 'bench-p', 9000000000000, 'bench'
       FROM accounts a WHERE a.user_id = ANY ($1::varchar[])`,
    [userIds],
  );
  await db.query(
    `INSERT INTO credit_budgets (budget_id, account_id, scope_kind, scope_id, parent_budget_id, credit_limit, created_by)
     SELECT 'bench-r-' || a.account_id, a.account_id, 'run', 'bench-r', 'bench-p-' || a.account_id, 9000000000000, 'bench'
       FROM accounts a WHERE a.user_id = ANY ($1::varchar[])`,
    [userIds],
  );
}

/** The record scenario, with or without the two budgets' scopes. */
export const budgetRecord = (scoped, randomId, meter) => ({
  method: 'POST',
  path: '/api/usage/record',
  body: () => ({
    userId: randomId(),
    service: 'bench',
    operation: 'op',
    credits: 1,
    ...(scoped ? { scopes: { project: 'bench-p', run: 'bench-r' } } : {}),
  }),
  auth: () => meter,
});
