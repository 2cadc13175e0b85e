import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { queryPrepared } from '../database/statement-parts.js';
import { featureConsumeSql, featureUseSql, periodEndSql } from '../engine/credit-sql.js';
import { Feature } from './entities/feature.entity.js';
import { FeatureOverride } from './entities/feature-override.entity.js';
import type { FeatureType, Grant } from './grants.js';

/** A feature as an account has it: the grant in force and where it comes from, with the period's use. */
export interface EntitlementRow {
  featureKey: string;
  name: string;
  type: FeatureType;
  grant: Grant | null;
  source: 'plan' | 'override' | null;
  /** Metered and granted: this period's use (else null). */
  used: number | null;
  resetsAt: Date | null;
}

/** What a check read (and, consuming, decided under the account's lock). */
export interface CheckRow {
  /** null: no such feature. */
  type: FeatureType | null;
  grant: Grant | null;
  /** A consuming check's decision (the engine's, featureConsumeSql()); null when none was made. */
  consumed: { allowed: boolean; used: number; limit: number; replayed: boolean } | null;
  /** A kept eventId asked for another `consume`: nothing was consumed, and the check is refused. */
  eventIdReused: boolean;
  /** A check without consumption: the period's use (metered and granted). */
  used: number | null;
  resetsAt: Date | null;
}

interface RawCheck {
  account_id: string | null;
  type: FeatureType | null;
  grant: Grant | null;
  allowed: boolean | null;
  used: string | null;
  cap_limit: string | null;
  replayed: boolean | null;
  /** A kept eventId asked for another `consume` (nothing consumed). */
  reused: boolean | null;
  spent: string | null;
  resets_at: Date | null;
}

/**
 * The grant in force of feature `f.feature_key` for account `a` (column account_id): the account's
 * override, else its live subscription's plan's grant (the subscription that carries the account, at
 * most one live). Read as committed, no cache: a revoke that has answered is what the next check reads,
 * on every instance.
 */
const GRANT_SQL = `
  SELECT o.grant_value AS override_grant,
         (SELECT p.features -> f.feature_key FROM subscriptions s JOIN plans p ON p.id = s.plan_id
           WHERE s.account_id = a.account_id AND s.ended_at IS NULL) AS plan_grant
    FROM (SELECT NULL) one
    LEFT JOIN feature_overrides o ON o.account_id = a.account_id AND o.feature_key = f.feature_key`;

/**
 * The checks' statement: one or more checks that arrive together (docs/features.md "Checks"), $1 a
 * JSON array of `{accountId, featureKey, consume, eventId, at}` (accountId null: the owner has no
 * account; consume and eventId null when not given; at the app's clock), answered one row a check by
 * its place `n`. For each: the account's row (that it exists); the feature; the
 * grant in force; for a metered grant either its use this period or, with `consume`, the decision of
 * the engine's consume (featureConsumeSql()) under the account's lock. The consuming checks are decided in account id
 * order, each account's in their order of arrival, so two such statements lock accounts in the same
 * order and never deadlock. A JSON parameter rather than arrays: its rows are estimated alike
 * whatever it holds, so PostgreSQL keeps one generic plan. The consume answers one row
 * at most; `LIMIT 1` tells the planner so (its default estimate is 1,000 rows).
 */
const CHECKS_SQL = `WITH i AS MATERIALIZED (SELECT * FROM ROWS FROM (jsonb_to_recordset($1::jsonb)
                       AS ("accountId" bigint, "featureKey" varchar, consume bigint, "eventId" varchar, at timestamptz))
                     WITH ORDINALITY AS i(account_id, feature_key, consume, event_id, at, n)),
            g AS MATERIALIZED (SELECT i.n, i.consume, i.event_id, i.at, i.feature_key, a.account_id, f.type,
                                      COALESCE(x.override_grant, x.plan_grant) AS grant
                    FROM i
                    LEFT JOIN LATERAL (SELECT account_id FROM accounts WHERE account_id = i.account_id) a ON true
                    LEFT JOIN features f ON f.feature_key = i.feature_key
                    LEFT JOIN LATERAL (${GRANT_SQL}) x ON a.account_id IS NOT NULL AND f.feature_key IS NOT NULL),
            c AS MATERIALIZED (SELECT g.n, r.* FROM (SELECT * FROM g WHERE g.consume IS NOT NULL AND g.type = 'metered'
                                                      ORDER BY g.account_id, g.n) g
                    CROSS JOIN LATERAL (SELECT * FROM ${featureConsumeSql({
                      accountId: 'g.account_id',
                      featureKey: 'g.feature_key',
                      limit: "(g.grant ->> 'limit')::bigint",
                      period: "g.grant ->> 'period'",
                      consume: 'g.consume',
                      eventId: 'g.event_id',
                      at: 'g.at',
                    })} LIMIT 1) r),
            u AS (SELECT g.n, sp.spent FROM g CROSS JOIN LATERAL
                    ${featureUseSql('g.feature_key', 'g.account_id', "g.grant ->> 'period'", 'g.at')} sp
                   WHERE g.consume IS NULL AND g.type = 'metered' AND g.grant IS NOT NULL)
       SELECT g.n, g.account_id, g.type, g.grant, c.allowed, c.used, c.cap_limit, c.replayed, c.reused, u.spent,
              ${periodEndSql("COALESCE(c.period, g.grant ->> 'period')", 'COALESCE(c.period_start, g.at)')} AS resets_at
         FROM g LEFT JOIN c ON c.n = g.n LEFT JOIN u ON u.n = g.n
        ORDER BY g.n`;

/**
 * One check: whose account (its id, resolved by the caller; null: the owner has none), which feature,
 * the uses to consume and the check's eventId, at the app's clock.
 */
export interface CheckQuery {
  accountId: string | null;
  featureKey: string;
  consume: number | null;
  eventId: string | null;
  at: Date;
}

/**
 * features and feature_overrides; the grants of plans read in place (plans.features) and a metered
 * feature's use through the credits module's cap functions (featureUseSql(), featureConsumeSql()).
 */
@Injectable()
export class FeaturesRepository {
  /** Inserts the feature; null when the key is taken. */
  async insert(m: EntityManager, feature: Pick<Feature, 'featureKey' | 'name' | 'type'>): Promise<Feature | null> {
    const result = await m.createQueryBuilder().insert().into(Feature).values(feature).orIgnore().execute();
    return result.raw.length > 0 ? m.findOneBy(Feature, { featureKey: feature.featureKey }) : null;
  }

  find(m: EntityManager, featureKey: string): Promise<Feature | null> {
    return m.findOneBy(Feature, { featureKey });
  }

  lock(m: EntityManager, featureKey: string): Promise<Feature | null> {
    return m.findOne(Feature, { where: { featureKey }, lock: { mode: 'pessimistic_write' } });
  }

  async rename(m: EntityManager, featureKey: string, name: string): Promise<Feature> {
    await m.update(Feature, { featureKey }, { name });
    return m.findOneByOrFail(Feature, { featureKey });
  }

  /** Features by key after `afterKey`, `limit` of them. */
  list(m: EntityManager, afterKey: string | null, limit: number): Promise<Feature[]> {
    return m.query(
      `SELECT feature_key AS "featureKey", name, type, created_at AS "createdAt", updated_at AS "updatedAt"
         FROM features WHERE $1::varchar IS NULL OR feature_key > $1 ORDER BY feature_key LIMIT $2`,
      [afterKey, limit],
    );
  }

  /** The types of these features (unknown keys absent). */
  async types(m: EntityManager, keys: string[]): Promise<Map<string, FeatureType>> {
    if (keys.length === 0) return new Map();
    const rows: { feature_key: string; type: FeatureType }[] = await m.query(
      `SELECT feature_key, type FROM features WHERE feature_key = ANY($1::varchar[])`,
      [keys],
    );
    return new Map(rows.map((r) => [r.feature_key, r.type]));
  }

  /** The account's override, locked for the caller's transaction (null: none). */
  findOverride(m: EntityManager, accountId: string, featureKey: string): Promise<FeatureOverride | null> {
    return m.findOne(FeatureOverride, { where: { accountId, featureKey }, lock: { mode: 'pessimistic_write' } });
  }

  async setOverride(m: EntityManager, accountId: string, featureKey: string, grant: Grant, by: string): Promise<void> {
    await m.query(
      `INSERT INTO feature_overrides (account_id, feature_key, grant_value, updated_by) VALUES ($1, $2, $3::jsonb, $4)
       ON CONFLICT (account_id, feature_key) DO UPDATE
         SET grant_value = EXCLUDED.grant_value, updated_by = EXCLUDED.updated_by, updated_at = now()`,
      [accountId, featureKey, JSON.stringify(grant), by],
    );
  }

  async removeOverride(m: EntityManager, accountId: string, featureKey: string): Promise<void> {
    await m.delete(FeatureOverride, { accountId, featureKey });
  }

  /**
   * Checks, one statement (CHECKS_SQL): each check's row in the order given, or null when it names no
   * account (nothing was read or consumed for it). Prepared, as balance's read is.
   */
  async checks(m: EntityManager, checks: CheckQuery[]): Promise<(CheckRow | null)[]> {
    const items = checks.map((q) => ({
      accountId: q.accountId,
      featureKey: q.featureKey,
      consume: q.consume,
      eventId: q.eventId,
      at: q.at.toISOString(),
    }));
    const rows = await queryPrepared<RawCheck>(m, 'feature_checks', {
      sql: CHECKS_SQL,
      params: [JSON.stringify(items)],
    });
    return rows.map((row) =>
      row.account_id === null
        ? null
        : {
            type: row.type,
            grant: row.grant,
            consumed:
              row.allowed === null
                ? null
                : {
                    allowed: row.allowed,
                    used: Number(row.used),
                    limit: Number(row.cap_limit),
                    replayed: row.replayed!,
                  },
            eventIdReused: row.reused === true,
            used: row.spent === null ? null : Number(row.spent),
            resetsAt: row.resets_at,
          },
    );
  }

  /** Every feature (by key, after `afterKey`) as the account has it, with a metered grant's use at `at`. */
  async entitlements(
    m: EntityManager,
    q: { accountId: string; afterKey: string | null; limit: number; at: Date; only?: string },
  ): Promise<EntitlementRow[]> {
    const rows: (Omit<EntitlementRow, 'used'> & { used: string | null })[] = await m.query(
      `WITH a AS (SELECT account_id FROM accounts WHERE account_id = $1::bigint)
       SELECT f.feature_key AS "featureKey", f.name, f.type,
              COALESCE(x.override_grant, x.plan_grant) AS grant,
              CASE WHEN x.override_grant IS NOT NULL THEN 'override' WHEN x.plan_grant IS NOT NULL THEN 'plan' END AS source,
              sp.spent AS used,
              ${periodEndSql("COALESCE(x.override_grant, x.plan_grant) ->> 'period'", '$4::timestamptz')} AS "resetsAt"
         FROM a CROSS JOIN features f
        CROSS JOIN LATERAL (${GRANT_SQL}) x
         LEFT JOIN LATERAL ${featureUseSql('f.feature_key', 'a.account_id', "COALESCE(x.override_grant, x.plan_grant) ->> 'period'", '$4::timestamptz')} sp
           ON f.type = 'metered' AND COALESCE(x.override_grant, x.plan_grant) IS NOT NULL
        WHERE ($2::varchar IS NULL OR f.feature_key > $2) AND ($5::varchar IS NULL OR f.feature_key = $5)
        ORDER BY f.feature_key LIMIT $3`,
      [q.accountId, q.afterKey, q.limit, q.at, q.only ?? null],
    );
    return rows.map((r) => ({ ...r, used: r.used === null ? null : Number(r.used) }));
  }
}
