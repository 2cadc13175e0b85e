import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which balance alerts are armed, per user: the thresholds at or below `alerts_armed_up_to` (null:
 * every one, as before this column). A crossing lowers it to the balance and a grant raises it back
 * (credit_balance_alerts() and credit_balance_alerts_rearm(), from the next migration), so holding
 * and aborting around a threshold sends balance.low once, not at every hold. Nullable without a
 * default: adding it rewrites nothing, and instances of the previous version ignore it.
 */
export class CreditAccountsAlertsArmed1732000018100 implements MigrationInterface {
  name = 'CreditAccountsAlertsArmed1732000018100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credit_accounts ADD COLUMN alerts_armed_up_to bigint`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credit_accounts DROP COLUMN alerts_armed_up_to`);
  }
}
