import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A budget's spend kept on its own row (docs/budgets.md): `spent`, what it used and held in the
 * period that starts at `spent_start` (NULL: it never counted anything). A budget's period never
 * changes, so only the period now matters and its one counter can live beside its limit: the take's
 * lookup of the budget reads it, where it read a counter row of credit_cap_spend by a second lookup,
 * and the count updates the row by its key. Each budget's newest bucket moves onto its row, and
 * credit_cap_spend keeps the caps of keys, members and features only. The functions that read and
 * write it come with the next migration. A take now writes the table, so its lists of values are
 * checked as one array constant each (PostgreSQL reads every check of a table back from its stored
 * text at each statement that writes it, an `IN` list as one cast constant a value).
 */
export class BudgetSpendOnItsRow1732004100000 implements MigrationInterface {
  name = 'BudgetSpendOnItsRow1732004100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credit_budgets ADD COLUMN spent bigint NOT NULL DEFAULT '0',
                     ADD COLUMN spent_start timestamptz,
                     ADD CONSTRAINT credit_budgets_spent_check CHECK (spent >= 0),
                     DROP CONSTRAINT credit_budgets_scope_kind_check,
                     ADD CONSTRAINT credit_budgets_scope_kind_check
                       CHECK (scope_kind::text = ANY ('{project,tag,run,session}'::text[])),
                     DROP CONSTRAINT credit_budgets_period_check,
                     ADD CONSTRAINT credit_budgets_period_check CHECK (period::text = ANY ('{day,week,month,lifetime}'::text[]))`);
    await q.query(`UPDATE credit_budgets b SET spent = s.spent, spent_start = s.period_start
                     FROM (SELECT DISTINCT ON (x.subject_id) x.subject_id, x.account_id, x.period_start, x.spent
                             FROM credit_cap_spend x WHERE x.subject_kind = 'budget'
                            ORDER BY x.subject_id, x.period_start DESC) s
                    WHERE s.subject_id = b.id::varchar AND s.account_id = b.account_id`);
    await q.query(`DELETE FROM credit_cap_spend WHERE subject_kind = 'budget'`);
    await q.query(`ALTER TABLE credit_cap_spend DROP CONSTRAINT credit_cap_spend_subject_kind_check,
                     ADD CONSTRAINT credit_cap_spend_subject_kind_check CHECK (subject_kind::text = ANY ('{key,member,feature}'::text[]))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credit_cap_spend DROP CONSTRAINT credit_cap_spend_subject_kind_check,
                     ADD CONSTRAINT credit_cap_spend_subject_kind_check CHECK (subject_kind::text = ANY ('{key,member,feature,budget}'::text[]))`);
    await q.query(`INSERT INTO credit_cap_spend (subject_kind, subject_id, account_id, period_start, spent)
                   SELECT 'budget', b.id::varchar, b.account_id, b.spent_start, b.spent
                     FROM credit_budgets b WHERE b.spent_start IS NOT NULL`);
    await q.query(`ALTER TABLE credit_budgets DROP CONSTRAINT credit_budgets_spent_check,
                     DROP COLUMN spent_start, DROP COLUMN spent,
                     DROP CONSTRAINT credit_budgets_scope_kind_check,
                     ADD CONSTRAINT credit_budgets_scope_kind_check CHECK (scope_kind IN ('project', 'tag', 'run', 'session')),
                     DROP CONSTRAINT credit_budgets_period_check,
                     ADD CONSTRAINT credit_budgets_period_check CHECK (period IN ('day', 'week', 'month', 'lifetime'))`);
  }
}
