import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Budgets by scope (docs/budgets.md): `credit_budgets` caps what one project, tag, agent run or
 * session of an account may spend, with parents; its spend is counted in credit_cap_spend
 * (subject_kind `budget`, subject_id the budget's numeric id) like every other cap. A hold keeps the
 * scopes it named and the budgets (and their periods) it counted against, so its settlement gives the
 * unused part back to them; a record keeps the scopes it named.
 */
export class Budgets1732001800000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE credit_budgets (
        id               bigint       GENERATED ALWAYS AS IDENTITY,
        budget_id        varchar(100) NOT NULL,
        account_id       bigint       NOT NULL,
        scope_kind       varchar(7)   NOT NULL,
        scope_id         varchar(200) NOT NULL,
        parent_budget_id varchar(100),
        credit_limit     bigint       NOT NULL,
        period           varchar(8)   NOT NULL DEFAULT 'lifetime',
        expires_at       timestamptz,
        reached_start    timestamptz,
        created_by       varchar(50)  NOT NULL,
        created_at       timestamptz  NOT NULL DEFAULT now(),
        updated_at       timestamptz  NOT NULL DEFAULT now(),
        CONSTRAINT credit_budgets_pkey PRIMARY KEY (id),
        CONSTRAINT credit_budgets_budget_id_key UNIQUE (budget_id),
        CONSTRAINT credit_budgets_scope_key UNIQUE (account_id, scope_kind, scope_id),
        CONSTRAINT credit_budgets_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (account_id),
        CONSTRAINT credit_budgets_parent_fkey FOREIGN KEY (parent_budget_id) REFERENCES credit_budgets (budget_id)
          ON DELETE SET NULL,
        CONSTRAINT credit_budgets_scope_kind_check CHECK (scope_kind IN ('project', 'tag', 'run', 'session')),
        CONSTRAINT credit_budgets_period_check CHECK (period IN ('day', 'week', 'month', 'lifetime')),
        CONSTRAINT credit_budgets_credit_limit_check CHECK (credit_limit >= 0))`);
    await q.query(`CREATE INDEX credit_budgets_parent_idx ON credit_budgets (parent_budget_id)`);
    await q.query(`ALTER TABLE credit_cap_spend DROP CONSTRAINT credit_cap_spend_subject_kind_check,
        ADD CONSTRAINT credit_cap_spend_subject_kind_check CHECK (subject_kind::text = ANY ('{key,member,feature,budget}'::text[]))`);
    await q.query(`ALTER TABLE credit_holds ADD COLUMN scopes jsonb, ADD COLUMN budget_ids bigint[],
        ADD COLUMN budget_starts timestamptz[]`);
    await q.query(`ALTER TABLE usage_records ADD COLUMN scope_project varchar(200), ADD COLUMN scope_tags varchar(200)[],
        ADD COLUMN scope_run varchar(200), ADD COLUMN scope_session varchar(200)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE usage_records DROP COLUMN scope_project, DROP COLUMN scope_tags, DROP COLUMN scope_run,
        DROP COLUMN scope_session`);
    await q.query(`ALTER TABLE credit_holds DROP COLUMN scopes, DROP COLUMN budget_ids, DROP COLUMN budget_starts`);
    await q.query(`DELETE FROM credit_cap_spend WHERE subject_kind = 'budget'`);
    await q.query(`ALTER TABLE credit_cap_spend DROP CONSTRAINT credit_cap_spend_subject_kind_check,
        ADD CONSTRAINT credit_cap_spend_subject_kind_check CHECK (subject_kind::text = ANY ('{key,member,feature}'::text[]))`);
    await q.query(`DROP TABLE credit_budgets`);
  }
}
