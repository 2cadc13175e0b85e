import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

import { TimestampColumn } from '../../database/timestamp-column.js';

/**
 * A cap's limit (migration 1732000060000): a budgeted API key's (`key`, subjectId its id, accountId 0:
 * its budget spans every account it charges), an organisation member's (`member`, subjectId their
 * user id, accountId the org's account) or an account's metered feature (`feature`, subjectId its key;
 * the limit is the feature's grant, so the row keeps only when its limit event was sent). Its spend is credit_cap_spend's, counted in the same buckets.
 * Owned by the credits module: the engine reads it under the account's lock, and API keys and orgs set
 * it through CreditCapsService. A cleared limit keeps its row (limit and period null), so a member's
 * limit_reached_period survives a limit removed and set again in one period.
 */
@Entity({ name: 'credit_caps' })
@Check('credit_caps_subject_kind_check', `subject_kind IN ('key', 'member', 'feature')`)
@Check('credit_caps_limit_pair_check', `(credit_limit IS NULL) = (period IS NULL)`)
// Each kind keeps its rules: a key's budget is at least 1 credit and may be `total` (never resets); a
// member's limit may be 0 (spends nothing) and resets by day, week or month.
@Check(
  'credit_caps_key_check',
  `subject_kind <> 'key' OR (credit_limit >= 1 AND period IN ('day', 'week', 'month', 'total') AND account_id = 0 AND owner_id IS NOT NULL)`,
)
@Check(
  'credit_caps_member_check',
  `subject_kind <> 'member' OR (credit_limit >= 0 AND period IN ('day', 'week', 'month'))`,
)
// A feature's limit is its grant's (a plan's or an override, docs/features.md), read at each check: its
// row keeps only limit_reached_period.
@Check('credit_caps_feature_check', `subject_kind <> 'feature' OR (credit_limit IS NULL AND account_id <> 0)`)
export class CreditCap {
  @PrimaryColumn({ name: 'subject_kind', type: 'varchar', length: 7, primaryKeyConstraintName: 'credit_caps_pkey' })
  subjectKind: 'key' | 'member' | 'feature';

  /** The key's id, the member's user id, or the feature's key. */
  @PrimaryColumn({ name: 'subject_id', type: 'varchar', length: 64, primaryKeyConstraintName: 'credit_caps_pkey' })
  subjectId: string;

  /** The account the subject spends from (a member: their organisation's); 0 for a key. */
  @PrimaryColumn({ name: 'account_id', type: 'bigint', primaryKeyConstraintName: 'credit_caps_pkey' })
  accountId: string;

  /** Credits the subject may spend per period; null: no limit. */
  @Column({ name: 'credit_limit', type: 'bigint', nullable: true })
  creditLimit: string | null;

  /** `day`, `week`, `month` (UTC calendar periods) or, for a key only, `total`. */
  @Column({ type: 'varchar', length: 5, nullable: true })
  period: string | null;

  /**
   * A member's or a feature's: the start (a UTC day; a lifetime feature's -infinity) of the period
   * org.member_limit_reached or feature.limit_reached was last sent for.
   */
  @Column({ name: 'limit_reached_period', type: 'date', nullable: true })
  limitReachedPeriod: string | null;

  /**
   * A key's owner (its creator), whom its limit event names when the key charges an organisation;
   * null for a member (the subject is the user).
   */
  @Column({ name: 'owner_id', type: 'varchar', length: 50, nullable: true })
  ownerId: string | null;

  @TimestampColumn('updated_at', { defaultNow: true })
  updatedAt: Date;
}
