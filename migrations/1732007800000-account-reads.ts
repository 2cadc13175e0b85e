import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An account's rows are read by the account that paid (`account_id`, resolved once at the edge), not
 * by their owner columns (docs/architecture.md "How the structure is counted"). The indexes follow the
 * reads:
 *
 * - `usage_records_account_time_idx (account_id, "timestamp" DESC, id DESC)`: an account's records
 *   newest first (an organisation's list and CSV export, paged on ("timestamp", id)), its statement's
 *   month, its statistics and the simulations and re-rates of one account. It replaces
 *   `usage_records_org_time_idx` (org_id, "timestamp", partial on org_id), which no read uses any
 *   more: every insert of a record (the hot path) writes an entry in each index of the table, so the
 *   table keeps its nine indexes. The partial index took an entry from an organisation's records only;
 *   this one takes one from every record, the price of reading a user's own records by their account
 *   (by `user_id` with `org_id IS NULL` those reads went through `usage_records_user_time_idx` and
 *   filtered out the member records). `usage_records_user_time_idx` stays: a user's list reads all they
 *   used, their own account's and as a member their organisations'.
 * - `subscriptions_account_live_idx`, unique on the live subscription's `account_id`: one live
 *   subscription an account (an account is one owner's, so it is the rule the two per-owner unique
 *   indexes kept), read by a feature check's grant, a plan change and a subscription's GET; and
 *   `subscriptions_account_ended_idx (account_id, ended_at)` for the one ended last (a kept anchor) and
 *   the runway's subscription in force. They replace the four per-owner indexes (live and ended, of a
 *   user and of an organisation).
 */
export class AccountReads1732007800000 implements MigrationInterface {
  name = 'AccountReads1732007800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX usage_records_account_time_idx ON usage_records (account_id, "timestamp" DESC, id DESC)`,
    );
    await q.query(`DROP INDEX usage_records_org_time_idx`);
    await q.query(
      `CREATE UNIQUE INDEX subscriptions_account_live_idx ON subscriptions (account_id) WHERE ended_at IS NULL`,
    );
    await q.query(`CREATE INDEX subscriptions_account_ended_idx ON subscriptions (account_id, ended_at)`);
    for (const index of ['user_live', 'org_live', 'user_ended', 'org_ended']) {
      await q.query(`DROP INDEX subscriptions_${index}_idx`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE UNIQUE INDEX subscriptions_user_live_idx ON subscriptions (user_id) WHERE ended_at IS NULL`);
    await q.query(`CREATE UNIQUE INDEX subscriptions_org_live_idx ON subscriptions (org_id) WHERE ended_at IS NULL`);
    await q.query(`CREATE INDEX subscriptions_user_ended_idx ON subscriptions (user_id, ended_at)`);
    await q.query(`CREATE INDEX subscriptions_org_ended_idx ON subscriptions (org_id, ended_at)`);
    await q.query(`DROP INDEX subscriptions_account_ended_idx`);
    await q.query(`DROP INDEX subscriptions_account_live_idx`);
    await q.query(
      `CREATE INDEX usage_records_org_time_idx ON usage_records (org_id, "timestamp") WHERE org_id IS NOT NULL`,
    );
    await q.query(`DROP INDEX usage_records_account_time_idx`);
  }
}
