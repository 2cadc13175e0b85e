import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `orgs` and `plans` announce a pricing change only when their model list changes (a row inserted with
 * one, `models` updated to another value, a row with one deleted). Their statement triggers fired on
 * every write: creating an organisation or renaming a plan made every instance drop its pricing cache
 * and reload it on its next metered write.
 */
export class PricingNotifyOnModelLists1732000049000 implements MigrationInterface {
  name = 'PricingNotifyOnModelLists1732000049000';

  async up(q: QueryRunner): Promise<void> {
    for (const table of ['orgs', 'plans']) {
      await q.query(`DROP TRIGGER ${table}_pricing_changed ON ${table}`);
      await q.query(`CREATE TRIGGER ${table}_pricing_changed_insert AFTER INSERT ON ${table}
                       FOR EACH ROW WHEN (NEW.models IS NOT NULL) EXECUTE FUNCTION pricing_changed_notify()`);
      await q.query(`CREATE TRIGGER ${table}_pricing_changed_update AFTER UPDATE OF models ON ${table}
                       FOR EACH ROW WHEN (OLD.models IS DISTINCT FROM NEW.models)
                       EXECUTE FUNCTION pricing_changed_notify()`);
      await q.query(`CREATE TRIGGER ${table}_pricing_changed_delete AFTER DELETE ON ${table}
                       FOR EACH ROW WHEN (OLD.models IS NOT NULL) EXECUTE FUNCTION pricing_changed_notify()`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['orgs', 'plans']) {
      for (const event of ['insert', 'update', 'delete']) {
        await q.query(`DROP TRIGGER ${table}_pricing_changed_${event} ON ${table}`);
      }
      await q.query(`CREATE TRIGGER ${table}_pricing_changed AFTER INSERT OR UPDATE OR DELETE ON ${table}
                       FOR EACH STATEMENT EXECUTE FUNCTION pricing_changed_notify()`);
    }
  }
}
