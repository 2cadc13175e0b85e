import { readFileSync } from 'node:fs';
import path from 'node:path';

import pg from 'pg';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { buildDatabaseConfig } from '../src/config/app-config.js';
import { buildDataSourceOptions } from '../src/database/data-source-options.js';
import { ENTITIES } from '../src/entities.js';
import { schemaCatalog } from './support/schema-catalog.js';

const ROOT = path.resolve(import.meta.dirname, '..');

/**
 * What the migrations create that TypeORM 1.1 cannot describe, exactly as PostgreSQL prints it. The
 * entities declare these indexes with `synchronize: false` (so generation leaves them alone) and say
 * why; everything else the migrations create, the entities describe.
 */
const NOT_IN_ENTITIES: Record<string, string> = {
  // Descending keys, INCLUDE columns and an expression: @Index has none of them.
  'index api_keys_user_idx':
    'CREATE INDEX api_keys_user_idx ON public.api_keys USING btree (user_id, created_at DESC, id DESC)',
  // An index method other than B-tree.
  'index credit_ledger_created_brin':
    'CREATE INDEX credit_ledger_created_brin ON public.credit_ledger USING brin (created_at)',
  'index usage_records_created_xid_brin':
    'CREATE INDEX usage_records_created_xid_brin ON public.usage_records USING brin (created_xid)',
  'index credit_ledger_created_xid_brin':
    "CREATE INDEX credit_ledger_created_xid_brin ON public.credit_ledger USING brin (created_xid) WITH (autosummarize='on')",
  'index credit_allocations_created_xid_brin':
    'CREATE INDEX credit_allocations_created_xid_brin ON public.credit_allocations USING brin (created_xid)',
  'index purchases_created_xid_brin':
    'CREATE INDEX purchases_created_xid_brin ON public.purchases USING brin (created_xid)',
  'index usage_corrections_created_xid_brin':
    'CREATE INDEX usage_corrections_created_xid_brin ON public.usage_corrections USING brin (created_xid)',
  'index usage_review_resolutions_created_xid_brin':
    'CREATE INDEX usage_review_resolutions_created_xid_brin ON public.usage_review_resolutions USING brin (created_xid)',
  'index credit_ledger_account_idx':
    'CREATE INDEX credit_ledger_account_idx ON public.credit_ledger USING btree (account_id, id DESC)',
  'index credit_ledger_finance_idx':
    'CREATE INDEX credit_ledger_finance_idx ON public.credit_ledger USING btree (currency, COALESCE(booked_at, created_at)) INCLUDE (category, value_minor, amount, account_id) WHERE (category IS NOT NULL)',
  'index credit_ledger_frozen_idx':
    "CREATE INDEX credit_ledger_frozen_idx ON public.credit_ledger USING btree (currency, created_at) INCLUDE (value_minor, account_id) WHERE (((kind)::text = ANY ((ARRAY['freeze'::character varying, 'unfreeze'::character varying])::text[])) AND (currency IS NOT NULL))",
  'index pricing_rules_model_idx':
    'CREATE INDEX pricing_rules_model_idx ON public.pricing_rules USING btree (model_id, effective_from DESC)',
  'index usage_records_review_queue_idx':
    'CREATE INDEX usage_records_review_queue_idx ON public.usage_records USING btree (review_status, "timestamp" DESC, id DESC) WHERE (review_status IS NOT NULL)',
  'index usage_records_account_time_idx':
    'CREATE INDEX usage_records_account_time_idx ON public.usage_records USING btree (account_id, "timestamp" DESC, id DESC)',
  'index usage_records_time_idx':
    'CREATE INDEX usage_records_time_idx ON public.usage_records USING btree ("timestamp" DESC, id DESC)',
  'index usage_records_user_time_idx':
    'CREATE INDEX usage_records_user_time_idx ON public.usage_records USING btree (user_id, "timestamp" DESC, id DESC) INCLUDE (credits, service, model_id, operation)',
  'index user_accounts_email_idx':
    'CREATE INDEX user_accounts_email_idx ON public.user_accounts USING btree (lower((email)::text))',
  // Storage parameters: no entity option sets them.
  'table credit_allocations': 'fillfactor=85',
  'table credit_budgets': 'fillfactor=50',
  // Stored answers are found by key and deleted by age: no vacuum for inserts (migration 1732008214000).
  'table idempotency_keys': 'autovacuum_vacuum_insert_threshold=-1',
  // Rollup deltas are an append-only queue without a primary key, and an entity needs one.
  'table usage_rollup_pending': '',
  'column usage_rollup_pending.day': '1 date NOT NULL',
  'column usage_rollup_pending.user_id': '2 character varying(50) NOT NULL',
  'column usage_rollup_pending.service': '3 character varying(50) NOT NULL',
  'column usage_rollup_pending.model_key': '4 character varying(100) NOT NULL',
  'column usage_rollup_pending.records': '5 bigint NOT NULL',
  'column usage_rollup_pending.credits': '6 bigint NOT NULL',
  'column usage_rollup_pending.provider_cost': '7 numeric',
  'column usage_rollup_pending.input_tokens': "8 bigint NOT NULL DEFAULT '0'::bigint",
  'column usage_rollup_pending.output_tokens': "9 bigint NOT NULL DEFAULT '0'::bigint",
  'column usage_rollup_pending.cache_read_tokens': "10 bigint NOT NULL DEFAULT '0'::bigint",
  'column usage_rollup_pending.cache_write_tokens': "11 bigint NOT NULL DEFAULT '0'::bigint",
  'column usage_rollup_pending.reasoning_tokens': "12 bigint NOT NULL DEFAULT '0'::bigint",
  // Triggers: TypeORM models none. Functions are left out of the comparison: test/sql-functions.int-spec.ts
  // holds each to its file under src/<module>/sql/.
  'trigger audit_log.audit_log_append_only':
    'CREATE TRIGGER audit_log_append_only BEFORE DELETE OR UPDATE ON public.audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()',
  'trigger audit_log.audit_log_no_truncate':
    'CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON public.audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()',
  'trigger account_prices.account_prices_pricing_changed':
    'CREATE TRIGGER account_prices_pricing_changed AFTER INSERT OR DELETE OR UPDATE ON public.account_prices FOR EACH STATEMENT EXECUTE FUNCTION pricing_changed_notify()',
  'trigger orgs.orgs_pricing_changed_delete':
    'CREATE TRIGGER orgs_pricing_changed_delete AFTER DELETE ON public.orgs FOR EACH ROW WHEN ((old.models IS NOT NULL)) EXECUTE FUNCTION pricing_changed_notify()',
  'trigger orgs.orgs_pricing_changed_insert':
    'CREATE TRIGGER orgs_pricing_changed_insert AFTER INSERT ON public.orgs FOR EACH ROW WHEN ((new.models IS NOT NULL)) EXECUTE FUNCTION pricing_changed_notify()',
  'trigger orgs.orgs_pricing_changed_update':
    'CREATE TRIGGER orgs_pricing_changed_update AFTER UPDATE OF models ON public.orgs FOR EACH ROW WHEN ((old.models IS DISTINCT FROM new.models)) EXECUTE FUNCTION pricing_changed_notify()',
  'trigger pricing_plan_model_lists.pricing_plan_model_lists_pricing_changed_delete':
    'CREATE TRIGGER pricing_plan_model_lists_pricing_changed_delete AFTER DELETE ON public.pricing_plan_model_lists FOR EACH ROW WHEN ((old.models IS NOT NULL)) EXECUTE FUNCTION pricing_changed_notify()',
  'trigger pricing_plan_model_lists.pricing_plan_model_lists_pricing_changed_insert':
    'CREATE TRIGGER pricing_plan_model_lists_pricing_changed_insert AFTER INSERT ON public.pricing_plan_model_lists FOR EACH ROW WHEN ((new.models IS NOT NULL)) EXECUTE FUNCTION pricing_changed_notify()',
  'trigger pricing_plan_model_lists.pricing_plan_model_lists_pricing_changed_update':
    'CREATE TRIGGER pricing_plan_model_lists_pricing_changed_update AFTER UPDATE OF models ON public.pricing_plan_model_lists FOR EACH ROW WHEN ((old.models IS DISTINCT FROM new.models)) EXECUTE FUNCTION pricing_changed_notify()',
  'trigger price_catalog_prices.price_catalog_prices_pricing_changed':
    'CREATE TRIGGER price_catalog_prices_pricing_changed AFTER INSERT OR DELETE OR UPDATE ON public.price_catalog_prices FOR EACH STATEMENT EXECUTE FUNCTION pricing_changed_notify()',
  'trigger price_catalog_sets.price_catalog_sets_pricing_changed':
    'CREATE TRIGGER price_catalog_sets_pricing_changed AFTER INSERT OR DELETE OR UPDATE ON public.price_catalog_sets FOR EACH STATEMENT EXECUTE FUNCTION pricing_changed_notify()',
  'trigger pricing_rules.pricing_rules_pricing_changed':
    'CREATE TRIGGER pricing_rules_pricing_changed AFTER INSERT OR DELETE OR UPDATE ON public.pricing_rules FOR EACH STATEMENT EXECUTE FUNCTION pricing_changed_notify()',
  'trigger user_accounts.accounts_for_user':
    'CREATE TRIGGER accounts_for_user AFTER INSERT ON public.user_accounts FOR EACH ROW EXECUTE FUNCTION accounts_for_user()',
  'trigger orgs.accounts_for_org':
    'CREATE TRIGGER accounts_for_org AFTER INSERT ON public.orgs FOR EACH ROW EXECUTE FUNCTION accounts_for_org()',
  // A budget's settings (kind, period, limit): checked by a trigger, not CHECKs, so the counter's UPDATE
  // reads no check (migration 1732004430000).
  'trigger credit_budgets.credit_budgets_check':
    'CREATE TRIGGER credit_budgets_check BEFORE INSERT OR UPDATE OF scope_kind, period, credit_limit ON public.credit_budgets FOR EACH ROW EXECUTE FUNCTION credit_budgets_check()',
  // The checks of the rows every record, hold and settlement writes: by triggers, not CHECKs, so a
  // statement that writes them reads no check back (migration 1732008207000).
  'trigger credit_ledger.credit_ledger_check':
    'CREATE TRIGGER credit_ledger_check BEFORE INSERT OR UPDATE OF kind, amount, allocation_id, category, value_minor, currency ON public.credit_ledger FOR EACH ROW EXECUTE FUNCTION credit_ledger_check()',
  'trigger credit_allocations.credit_allocations_check':
    'CREATE TRIGGER credit_allocations_check BEFORE INSERT OR UPDATE OF total_credits, remaining_credits, source, subscription_id, plan_id, period_start, purchase_id, value_minor, value_remaining_minor, currency ON public.credit_allocations FOR EACH ROW EXECUTE FUNCTION credit_allocations_check()',
  'trigger usage_records.usage_records_check':
    'CREATE TRIGGER usage_records_check BEFORE INSERT OR UPDATE OF provider_cost, billing_status, review_status, resolution, usage_source, termination, provider_usage ON public.usage_records FOR EACH ROW EXECUTE FUNCTION usage_records_check()',
  'trigger streaming_sessions.streaming_sessions_check':
    'CREATE TRIGGER streaming_sessions_check BEFORE INSERT OR UPDATE OF status, allocated_credits, estimated_credits, expires_at, started_at, settled_at, actual_credits, refund, shortfall, usage_record_id, record_extras ON public.streaming_sessions FOR EACH ROW EXECUTE FUNCTION streaming_sessions_check()',
  'trigger credit_ledger.credit_ledger_append_only':
    'CREATE TRIGGER credit_ledger_append_only BEFORE DELETE OR UPDATE ON public.credit_ledger FOR EACH ROW EXECUTE FUNCTION credit_ledger_append_only()',
  'trigger usage_records.usage_rollup_insert':
    "CREATE TRIGGER usage_rollup_insert AFTER INSERT ON public.usage_records REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_delta('1')",
  'trigger usage_records.usage_rollup_delete':
    "CREATE TRIGGER usage_rollup_delete AFTER DELETE ON public.usage_records REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_delta('-1')",
  'trigger usage_records.usage_rollup_update_old':
    "CREATE TRIGGER usage_rollup_update_old AFTER UPDATE ON public.usage_records REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_delta('-1')",
  'trigger usage_records.usage_rollup_update_new':
    "CREATE TRIGGER usage_rollup_update_new AFTER UPDATE ON public.usage_records REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_delta('1')",
  'trigger usage_records.usage_rollup_truncate':
    'CREATE TRIGGER usage_rollup_truncate AFTER TRUNCATE ON public.usage_records FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_on_truncate()',
  'trigger usage_corrections.usage_corrections_rollup':
    'CREATE TRIGGER usage_corrections_rollup AFTER INSERT ON public.usage_corrections REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_correction()',
  'trigger usage_records.usage_records_occurred_at':
    'CREATE TRIGGER usage_records_occurred_at BEFORE INSERT ON public.usage_records FOR EACH ROW WHEN ((new.occurred_at IS NULL)) EXECUTE FUNCTION usage_records_occurred_at()',
  'trigger events.email_notifications_queue':
    "CREATE TRIGGER email_notifications_queue AFTER INSERT ON public.events FOR EACH ROW WHEN (((new.type)::text = ANY ((ARRAY['credits.expiring'::character varying, 'balance.low'::character varying, 'balance.depleted'::character varying, 'purchase.paid'::character varying, 'purchase.refunded'::character varying, 'promotion.redeemed'::character varying, 'auto_recharge.disabled'::character varying, 'org.member_limit_reached'::character varying, 'feature.limit_reached'::character varying, 'credits.runway'::character varying, 'budget.reached'::character varying])::text[]))) EXECUTE FUNCTION email_notifications_queue()",
};

function optionsFor(url: string) {
  return {
    ...buildDataSourceOptions({ ...buildDatabaseConfig({ DATABASE_URL: url }), url }, ENTITIES),
    migrationsRun: false,
  };
}

/**
 * One schema: the entities describe the tables the migrations create. On a freshly migrated database,
 * TypeORM's schema diff (what `npm run migration:generate` would write) must be empty, so a reviewer
 * never sees a generated migration that silently drops constraints or indexes. TypeORM's diff compares
 * checks, exclusions and partial indexes by name only, so the second test also builds a database from
 * the entities alone and compares both catalogs entry by entry. Both databases are this file's own:
 * other spec files add objects of their own to the shared one (test_markers).
 */
describe('schema drift', () => {
  const base = new URL(inject('databaseUrl'));
  const urlOf = (suffix: string) => {
    const url = new URL(base);
    url.pathname = `${base.pathname}_${suffix}`;
    return url.toString();
  };
  const migratedUrl = urlOf('migrated');
  const entitiesUrl = urlOf('entities');
  const created: string[] = [];
  let migrated: DataSource;

  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  const createDatabase = async (url: string, template?: string) => {
    const name = new URL(url).pathname.slice(1);
    await admin(template ? `CREATE DATABASE ${name} TEMPLATE ${template}` : `CREATE DATABASE ${name}`);
    created.push(name);
  };

  beforeAll(async () => {
    // A copy of the run's database as its migrations left it (global-setup.ts), made in a fraction of
    // the time the migrations take; migrated here when there is none (the spec run outside the suite).
    const template = inject('migratedTemplate');
    await createDatabase(migratedUrl, template);
    migrated = await new DataSource(optionsFor(migratedUrl)).initialize();
    if (!template) await migrated.runMigrations({ transaction: 'each' });
    // TypeORM finds a generated column's expression in `typeorm_metadata` by the database's name, which
    // the migration wrote (migration 1732008000000): a copy answers to its own.
    await migrated.query(`UPDATE typeorm_metadata SET "database" = current_database()`);
    expect(await migrated.showMigrations(), 'a migration has not run').toBe(false);
  });
  afterAll(async () => {
    await migrated?.destroy();
    for (const name of created) await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });

  it('generating a migration from the entities on a migrated database yields nothing', async () => {
    const sql = await migrated.driver.createSchemaBuilder().log();
    const statements = sql.upQueries.map((q) => q.query);
    expect(statements, 'Generated migration files not up to date! The entities and the migrations differ.').toEqual([]);
  });

  it('a database built from the entities alone has the migrated schema, but for what TypeORM cannot say', async () => {
    await createDatabase(entitiesUrl);
    const fromEntities = new DataSource(optionsFor(entitiesUrl));
    await fromEntities.initialize();
    try {
      // The one extension the entities need (the pricing exclusion constraint) and the one function
      // their defaults call (time-ordered ids); migrations install both.
      await fromEntities.query(`CREATE EXTENSION btree_gist`);
      await fromEntities.query(readFileSync(path.join(ROOT, 'src/database/sql/uuid_v7.sql'), 'utf8'));
      await fromEntities.synchronize();
    } finally {
      await fromEntities.destroy();
    }
    const withoutFunctions = (catalog: Record<string, string>) =>
      Object.fromEntries(Object.entries(catalog).filter(([key]) => !key.startsWith('function ')));
    const expected = { ...withoutFunctions(await schemaCatalog(entitiesUrl)), ...NOT_IN_ENTITIES };
    expect(withoutFunctions(await schemaCatalog(migratedUrl)), 'The entities and the migrations differ.').toEqual(
      expected,
    );
  });
});
