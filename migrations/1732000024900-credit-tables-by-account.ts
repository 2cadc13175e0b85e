import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The credit tables keyed by the account (issue 32, docs/money.md "The account and its lock"):
 * credit_allocations, credit_ledger, credit_holds and credit_accounts get `account_id` (backfilled from
 * accounts.user_id), and it becomes their key where the user id was: credit_accounts' primary key,
 * credit_holds' (session_id, account_id), the FIFO index and the ledger's account index. `user_id` stays
 * on the rows of user accounts (null on an organisation's), so the HTTP views and the reads that name a
 * user keep it. credit_key_spend stays keyed by the API key: a key's budget is the key's, whichever
 * account it charges. `accounts` gains `org_id`, the owner of an organisation's account.
 * The engine's functions change in the next migration (1732000024950).
 */
export class CreditTablesByAccount1732000024900 implements MigrationInterface {
  name = 'CreditTablesByAccount1732000024900';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE accounts ADD COLUMN org_id varchar(50) CONSTRAINT accounts_org_id_key UNIQUE`);
    await q.query(`ALTER TABLE accounts DROP CONSTRAINT accounts_owner_check`);
    await q.query(`ALTER TABLE accounts ADD CONSTRAINT accounts_owner_check
      CHECK ((kind = 'user') = (user_id IS NOT NULL) AND (kind = 'org') = (org_id IS NOT NULL))`);

    for (const table of ['credit_allocations', 'credit_ledger', 'credit_holds', 'credit_accounts']) {
      await q.query(`ALTER TABLE ${table} ADD COLUMN account_id bigint`);
      // The ledger is append-only (credit_ledger_append_only()): its trigger is off for this backfill only.
      if (table === 'credit_ledger')
        await q.query(`ALTER TABLE credit_ledger DISABLE TRIGGER credit_ledger_append_only`);
      await q.query(`UPDATE ${table} t SET account_id = a.account_id FROM accounts a WHERE a.user_id = t.user_id`);
      if (table === 'credit_ledger')
        await q.query(`ALTER TABLE credit_ledger ENABLE TRIGGER credit_ledger_append_only`);
      await q.query(`ALTER TABLE ${table} ALTER COLUMN account_id SET NOT NULL,
        ADD CONSTRAINT ${table}_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (account_id)`);
    }

    await q.query(`ALTER TABLE credit_accounts DROP CONSTRAINT credit_accounts_pkey`);
    await q.query(`ALTER TABLE credit_accounts ADD CONSTRAINT credit_accounts_pkey PRIMARY KEY (account_id)`);
    await q.query(`ALTER TABLE credit_accounts ADD CONSTRAINT credit_accounts_user_id_key UNIQUE (user_id)`);
    await q.query(`DROP INDEX credit_accounts_debt_idx`);
    await q.query(`CREATE INDEX credit_accounts_debt_idx ON credit_accounts (account_id) WHERE debt > 0`);

    await q.query(`ALTER TABLE credit_holds DROP CONSTRAINT credit_holds_pkey`);
    await q.query(`ALTER TABLE credit_holds ADD CONSTRAINT credit_holds_pkey PRIMARY KEY (session_id, account_id)`);
    await q.query(`DROP INDEX credit_holds_user_idx`);
    await q.query(`CREATE INDEX credit_holds_account_idx ON credit_holds (account_id) WHERE settled_at IS NULL`);

    await q.query(`DROP INDEX credit_allocations_user_expiry_idx`);
    await q.query(`CREATE INDEX credit_allocations_account_expiry_idx ON credit_allocations (account_id, expires_at)`);

    await q.query(`DROP INDEX credit_ledger_user_idx`);
    await q.query(`CREATE INDEX credit_ledger_account_idx ON credit_ledger (account_id, id DESC)`);
    // An organisation's account has no user: user_id stays on the rows of user accounts only.
    for (const table of ['credit_allocations', 'credit_ledger', 'credit_holds', 'credit_accounts']) {
      await q.query(`ALTER TABLE ${table} ALTER COLUMN user_id DROP NOT NULL`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    // Only user accounts' money can go back to being keyed by the user id (an organisation's account
    // with no money stays, of kind org, without its org id).
    const [{ n }]: { n: string }[] = await q.query(
      `SELECT (SELECT count(*) FROM credit_allocations WHERE user_id IS NULL)
            + (SELECT count(*) FROM credit_ledger WHERE user_id IS NULL)
            + (SELECT count(*) FROM credit_holds WHERE user_id IS NULL)
            + (SELECT count(*) FROM credit_accounts WHERE user_id IS NULL) AS n`,
    );
    if (Number(n) > 0) throw new Error('Organisation accounts exist: their money has no user to be keyed by');

    for (const table of ['credit_allocations', 'credit_ledger', 'credit_holds', 'credit_accounts']) {
      await q.query(`ALTER TABLE ${table} ALTER COLUMN user_id SET NOT NULL`);
    }
    await q.query(`DROP INDEX credit_ledger_account_idx`);
    await q.query(`CREATE INDEX credit_ledger_user_idx ON credit_ledger (user_id, id DESC)`);
    await q.query(`DROP INDEX credit_allocations_account_expiry_idx`);
    await q.query(`CREATE INDEX credit_allocations_user_expiry_idx ON credit_allocations (user_id, expires_at)`);
    await q.query(`DROP INDEX credit_holds_account_idx`);
    await q.query(`CREATE INDEX credit_holds_user_idx ON credit_holds (user_id) WHERE settled_at IS NULL`);
    await q.query(`ALTER TABLE credit_holds DROP CONSTRAINT credit_holds_pkey`);
    await q.query(`ALTER TABLE credit_holds ADD CONSTRAINT credit_holds_pkey PRIMARY KEY (session_id, user_id)`);
    await q.query(`DROP INDEX credit_accounts_debt_idx`);
    await q.query(`CREATE INDEX credit_accounts_debt_idx ON credit_accounts (user_id) WHERE debt > 0`);
    await q.query(`ALTER TABLE credit_accounts DROP CONSTRAINT credit_accounts_user_id_key`);
    await q.query(`ALTER TABLE credit_accounts DROP CONSTRAINT credit_accounts_pkey`);
    await q.query(`ALTER TABLE credit_accounts ADD CONSTRAINT credit_accounts_pkey PRIMARY KEY (user_id)`);
    for (const table of ['credit_allocations', 'credit_ledger', 'credit_holds', 'credit_accounts']) {
      await q.query(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_account_id_fkey, DROP COLUMN account_id`);
    }

    await q.query(`ALTER TABLE accounts DROP CONSTRAINT accounts_owner_check`);
    await q.query(
      `ALTER TABLE accounts ADD CONSTRAINT accounts_owner_check CHECK ((kind = 'user') = (user_id IS NOT NULL))`,
    );
    await q.query(`ALTER TABLE accounts DROP COLUMN org_id`);
  }
}
