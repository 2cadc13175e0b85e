import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Budget ids belong to an account (docs/budgets.md "Budget ids"): `budget_id` is unique per account,
 * not across them, so one account's budget never tells another that an id is taken. The parent's
 * foreign key named a budget by its id alone; a parent is the same account's budget of that id,
 * checked under the account's lock when a budget is created, and deleting a budget clears its
 * children's parent in the same transaction (CreditBudgetsRepository.delete()). The per-account key's
 * index serves the parent walk (credit_budget_caps(): account and id).
 */
export class BudgetIdsPerAccount1732005610000 implements MigrationInterface {
  name = 'BudgetIdsPerAccount1732005610000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credit_budgets DROP CONSTRAINT credit_budgets_parent_fkey`);
    await q.query(`ALTER TABLE credit_budgets DROP CONSTRAINT credit_budgets_budget_id_key,
        ADD CONSTRAINT credit_budgets_account_budget_key UNIQUE (account_id, budget_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    // Back to one namespace: fails (as it should) while two accounts hold the same id.
    await q.query(`ALTER TABLE credit_budgets DROP CONSTRAINT credit_budgets_account_budget_key,
        ADD CONSTRAINT credit_budgets_budget_id_key UNIQUE (budget_id)`);
    await q.query(`ALTER TABLE credit_budgets ADD CONSTRAINT credit_budgets_parent_fkey FOREIGN KEY (parent_budget_id)
        REFERENCES credit_budgets (budget_id) ON DELETE SET NULL`);
  }
}
