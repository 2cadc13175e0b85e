import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A budget's settings checked by a trigger, its counter's pages with room (docs/budgets.md,
 * docs/benchmarks.md "What budgets cost the record"). PostgreSQL reads every CHECK of a table back
 * from its stored text at each statement that writes the table, and a budgeted record's take writes
 * its budgets' counters (`spent`, `spent_start`) with one UPDATE: the checks of the scope's kind, the
 * period and the limit, which that UPDATE never changes, cost it about a fifth of its work. They move
 * to credit_budgets_check() (migration 1732004420000), fired on an insert and on an update that sets
 * one of those columns, refusing as the checks did (SQLSTATE 23514, the same constraint names);
 * `spent >= 0` stays a CHECK. A fillfactor of 50 leaves room on each page for the counters' new row
 * versions (heap-only updates, pruned less often); rows inserted from now on take it.
 */
export class BudgetSettingsByTrigger1732004430000 implements MigrationInterface {
  name = 'BudgetSettingsByTrigger1732004430000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credit_budgets DROP CONSTRAINT credit_budgets_scope_kind_check,
                     DROP CONSTRAINT credit_budgets_period_check,
                     DROP CONSTRAINT credit_budgets_credit_limit_check,
                     SET (fillfactor = 50)`);
    await q.query(`CREATE TRIGGER credit_budgets_check BEFORE INSERT OR UPDATE OF scope_kind, period, credit_limit
                     ON credit_budgets FOR EACH ROW EXECUTE FUNCTION credit_budgets_check()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER credit_budgets_check ON credit_budgets`);
    await q.query(`ALTER TABLE credit_budgets RESET (fillfactor),
                     ADD CONSTRAINT credit_budgets_scope_kind_check
                       CHECK (scope_kind::text = ANY ('{project,tag,run,session}'::text[])),
                     ADD CONSTRAINT credit_budgets_period_check CHECK (period::text = ANY ('{day,week,month,lifetime}'::text[])),
                     ADD CONSTRAINT credit_budgets_credit_limit_check CHECK (credit_limit >= 0)`);
  }
}
