import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A user's subscription history by end time. Plan changes never mint credits (docs/money.md, "Plans
 * and rollover"): a subscription re-created after a DELETE keeps the period of the one just ended,
 * so PUT reads the user's most recently ended subscription. The only index on `user_id` so far is the
 * partial one over live rows; without this one that read would scan every user's history.
 */
export class SubscriptionsUserHistoryIdx1732000016200 implements MigrationInterface {
  name = 'SubscriptionsUserHistoryIdx1732000016200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX subscriptions_user_ended_idx ON subscriptions (user_id, ended_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX subscriptions_user_ended_idx`);
  }
}
