import type { MigrationInterface, QueryRunner } from 'typeorm';

import { EMAILED_EVENT_TYPES_1732000046200 } from './1732000046200-email-notifications-trigger.js';

/**
 * Features and entitlements (docs/features.md): the catalogue (`features`), a plan's grants
 * (`plans.features`), an account's overrides (`feature_overrides`). A metered feature's use is one more
 * kind of cap of the credits module (`feature`): its counter is credit_cap_spend's bucket of the grant's
 * period, its limit event's period credit_caps' `limit_reached_period`, and the answers of checks that
 * named an eventId are kept in credit_cap_event_ids. subject_id grows to 64 characters (a feature's key)
 * and subject_kind to 7 (`feature`): widening a varchar rewrites neither the tables nor their indexes.
 * `feature.limit_reached` emails.
 */
export class Features1732000860000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE features (
        feature_key varchar(64)  NOT NULL,
        name        varchar(100) NOT NULL,
        type        varchar(8)   NOT NULL,
        created_at  timestamptz  NOT NULL DEFAULT now(),
        updated_at  timestamptz  NOT NULL DEFAULT now(),
        CONSTRAINT features_pkey PRIMARY KEY (feature_key),
        CONSTRAINT features_key_check CHECK (feature_key ~ '^[a-z0-9_.-]{1,64}$'),
        CONSTRAINT features_type_check CHECK (type IN ('boolean', 'metered', 'config')))`);
    await q.query(`CREATE TABLE feature_overrides (
        account_id  bigint      NOT NULL,
        feature_key varchar(64) NOT NULL,
        grant_value jsonb       NOT NULL,
        updated_by  varchar(50) NOT NULL,
        updated_at  timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT feature_overrides_pkey PRIMARY KEY (account_id, feature_key),
        CONSTRAINT feature_overrides_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (account_id),
        CONSTRAINT feature_overrides_feature_key_fkey FOREIGN KEY (feature_key) REFERENCES features (feature_key))`);
    await q.query(`ALTER TABLE plans ADD features jsonb`);

    for (const table of ['credit_caps', 'credit_cap_spend']) {
      await q.query(
        `ALTER TABLE ${table} ALTER COLUMN subject_kind TYPE varchar(7), ALTER COLUMN subject_id TYPE varchar(64)`,
      );
    }
    // Widening subject_kind makes PostgreSQL print the checks over it with other casts: they are made
    // again from their own text, so the catalog says what the entities say.
    await q.query(`ALTER TABLE credit_caps DROP CONSTRAINT credit_caps_key_check, DROP CONSTRAINT credit_caps_member_check,
        ADD CONSTRAINT credit_caps_key_check CHECK (subject_kind <> 'key' OR (credit_limit >= 1 AND period IN ('day', 'week', 'month', 'total') AND account_id = 0 AND owner_id IS NOT NULL)),
        ADD CONSTRAINT credit_caps_member_check CHECK (subject_kind <> 'member' OR (credit_limit >= 0 AND period IN ('day', 'week', 'month')))`);
    await q.query(`ALTER TABLE credit_caps DROP CONSTRAINT credit_caps_subject_kind_check,
        ADD CONSTRAINT credit_caps_subject_kind_check CHECK (subject_kind IN ('key', 'member', 'feature')),
        ADD CONSTRAINT credit_caps_feature_check CHECK (subject_kind <> 'feature' OR (credit_limit IS NULL AND account_id <> 0))`);
    await q.query(`ALTER TABLE credit_cap_spend DROP CONSTRAINT credit_cap_spend_subject_kind_check,
        ADD CONSTRAINT credit_cap_spend_subject_kind_check CHECK (subject_kind::text = ANY ('{key,member,feature}'::text[]))`);
    await q.query(`CREATE TABLE credit_cap_event_ids (
        account_id   bigint       NOT NULL,
        subject_kind varchar(7)   NOT NULL,
        subject_id   varchar(64)  NOT NULL,
        event_id     varchar(100) NOT NULL,
        allowed      boolean      NOT NULL,
        used         bigint       NOT NULL,
        cap_limit    bigint       NOT NULL,
        period_start timestamptz  NOT NULL,
        period       varchar(8)   NOT NULL,
        created_at   timestamptz  NOT NULL,
        CONSTRAINT credit_cap_event_ids_pkey PRIMARY KEY (account_id, subject_kind, subject_id, event_id),
        CONSTRAINT credit_cap_event_ids_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (account_id))`);
    await q.query(`CREATE INDEX credit_cap_event_ids_created_idx ON credit_cap_event_ids (created_at)`);

    await setEmailedTypes(q, [...EMAILED_EVENT_TYPES_1732000046200, 'feature.limit_reached']);
  }

  async down(q: QueryRunner): Promise<void> {
    await setEmailedTypes(q, EMAILED_EVENT_TYPES_1732000046200);
    await q.query(`DROP TABLE credit_cap_event_ids`);
    await q.query(`DELETE FROM credit_cap_spend WHERE subject_kind = 'feature'`);
    await q.query(`DELETE FROM credit_caps WHERE subject_kind = 'feature'`);
    await q.query(`ALTER TABLE credit_cap_spend DROP CONSTRAINT credit_cap_spend_subject_kind_check,
        ADD CONSTRAINT credit_cap_spend_subject_kind_check CHECK (subject_kind::text = ANY ('{key,member}'::text[]))`);
    await q.query(`ALTER TABLE credit_caps DROP CONSTRAINT credit_caps_feature_check, DROP CONSTRAINT credit_caps_subject_kind_check,
        ADD CONSTRAINT credit_caps_subject_kind_check CHECK (subject_kind IN ('key', 'member'))`);
    for (const table of ['credit_caps', 'credit_cap_spend']) {
      await q.query(
        `ALTER TABLE ${table} ALTER COLUMN subject_kind TYPE varchar(6), ALTER COLUMN subject_id TYPE varchar(50)`,
      );
    }
    await q.query(`ALTER TABLE plans DROP COLUMN features`);
    await q.query(`DROP TABLE feature_overrides`);
    await q.query(`DROP TABLE features`);
  }
}

async function setEmailedTypes(q: QueryRunner, types: string[]): Promise<void> {
  await q.query(`DROP TRIGGER email_notifications_queue ON events`);
  await q.query(
    `CREATE TRIGGER email_notifications_queue AFTER INSERT ON events FOR EACH ROW
       WHEN (NEW.type IN (${types.map((t) => `'${t}'`).join(', ')})) EXECUTE FUNCTION email_notifications_queue()`,
  );
}
