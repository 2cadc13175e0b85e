import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each account's live plan and its model list, kept by pricing (`pricing_plan_model_lists`), filled
 * from today's live subscriptions. Pricing's cache reads it instead of `subscriptions` and `plans`, so
 * those two no longer announce pricing changes: the new table does, when a model list in it is set,
 * changed or deleted.
 */
export class PlanModelLists1732001010000 implements MigrationInterface {
  name = 'PlanModelLists1732001010000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE pricing_plan_model_lists (
        account_id bigint CONSTRAINT pricing_plan_model_lists_pkey PRIMARY KEY
          CONSTRAINT pricing_plan_model_lists_account_id_fkey REFERENCES accounts (account_id),
        plan_id varchar(50) NOT NULL,
        models text[]
      )`);
    await q.query(`CREATE INDEX pricing_plan_model_lists_plan_idx ON pricing_plan_model_lists (plan_id)`);
    // An account row has exactly one of user_id and org_id, as a subscription does.
    await q.query(`
      INSERT INTO pricing_plan_model_lists (account_id, plan_id, models)
      SELECT a.account_id, s.plan_id, p.models
        FROM subscriptions s
        JOIN plans p ON p.id = s.plan_id
        JOIN accounts a ON a.user_id = s.user_id OR a.org_id = s.org_id
       WHERE s.ended_at IS NULL`);
    await q.query(`CREATE TRIGGER pricing_plan_model_lists_pricing_changed_insert AFTER INSERT ON pricing_plan_model_lists
                     FOR EACH ROW WHEN (NEW.models IS NOT NULL) EXECUTE FUNCTION pricing_changed_notify()`);
    await q.query(`CREATE TRIGGER pricing_plan_model_lists_pricing_changed_update AFTER UPDATE OF models ON pricing_plan_model_lists
                     FOR EACH ROW WHEN (OLD.models IS DISTINCT FROM NEW.models) EXECUTE FUNCTION pricing_changed_notify()`);
    await q.query(`CREATE TRIGGER pricing_plan_model_lists_pricing_changed_delete AFTER DELETE ON pricing_plan_model_lists
                     FOR EACH ROW WHEN (OLD.models IS NOT NULL) EXECUTE FUNCTION pricing_changed_notify()`);
    for (const event of ['insert', 'update', 'delete']) {
      await q.query(`DROP TRIGGER plans_pricing_changed_${event} ON plans`);
    }
    await q.query(`DROP TRIGGER subscriptions_pricing_changed ON subscriptions`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TRIGGER subscriptions_pricing_changed AFTER INSERT OR UPDATE OR DELETE ON subscriptions
                     FOR EACH STATEMENT EXECUTE FUNCTION pricing_changed_notify()`);
    await q.query(`CREATE TRIGGER plans_pricing_changed_insert AFTER INSERT ON plans
                     FOR EACH ROW WHEN (NEW.models IS NOT NULL) EXECUTE FUNCTION pricing_changed_notify()`);
    await q.query(`CREATE TRIGGER plans_pricing_changed_update AFTER UPDATE OF models ON plans
                     FOR EACH ROW WHEN (OLD.models IS DISTINCT FROM NEW.models) EXECUTE FUNCTION pricing_changed_notify()`);
    await q.query(`CREATE TRIGGER plans_pricing_changed_delete AFTER DELETE ON plans
                     FOR EACH ROW WHEN (OLD.models IS NOT NULL) EXECUTE FUNCTION pricing_changed_notify()`);
    await q.query(`DROP TABLE pricing_plan_model_lists`);
  }
}
