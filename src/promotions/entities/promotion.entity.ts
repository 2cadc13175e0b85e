import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

import { TimestampColumn } from '../../database/timestamp-column.js';

/** Who may redeem a code: user accounts, organisations' accounts, or both. */
export const PROMOTION_ACCOUNTS = ['users', 'orgs', 'any'] as const;
export type PromotionAccounts = (typeof PROMOTION_ACCOUNTS)[number];

/**
 * A promotion code (migration 1732000047000), kept upper-case (codes compare without case).
 * `redemptions` counts what was redeemed; the redemption takes this row's lock first, so the count
 * and the check against `max_redemptions` (also a constraint) are exact under parallel redemptions.
 */
@Entity({ name: 'promotions' })
@Check('promotions_code_check', `code ~ '^[A-Z0-9-]{4,40}$'`)
@Check('promotions_credits_check', `credits >= 1`)
@Check('promotions_expiry_days_check', `expiry_days BETWEEN 1 AND 3650`)
@Check('promotions_max_redemptions_check', `max_redemptions >= 1`)
@Check('promotions_per_account_check', `per_account >= 1`)
@Check('promotions_accounts_check', `accounts IN ('users', 'orgs', 'any')`)
@Check('promotions_new_accounts_check', `new_accounts_within_days BETWEEN 1 AND 3650`)
@Check('promotions_window_check', `starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at`)
@Check(
  'promotions_redemptions_check',
  `redemptions >= 0 AND (max_redemptions IS NULL OR redemptions <= max_redemptions)`,
)
@Index('promotions_created_idx', ['createdAt', 'code'])
export class Promotion {
  @PrimaryColumn({ type: 'varchar', length: 40, primaryKeyConstraintName: 'promotions_pkey' })
  code: string;

  @Column({ type: 'integer' })
  credits: number;

  /** How long the granted allocation lasts. */
  @Column({ name: 'expiry_days', type: 'integer' })
  expiryDays: number;

  @TimestampColumn('starts_at', { nullable: true })
  startsAt: Date | null;

  @TimestampColumn('ends_at', { nullable: true })
  endsAt: Date | null;

  @Column({ name: 'max_redemptions', type: 'integer', nullable: true })
  maxRedemptions: number | null;

  @Column({ name: 'per_account', type: 'integer', default: 1 })
  perAccount: number;

  @Column({ type: 'varchar', length: 5, default: 'users' })
  accounts: PromotionAccounts;

  @Column({ name: 'new_accounts_within_days', type: 'integer', nullable: true })
  newAccountsWithinDays: number | null;

  @Column({ type: 'boolean', default: true })
  active: boolean;

  @Column({ type: 'integer', default: 0 })
  redemptions: number;

  @Column({ name: 'created_by', type: 'varchar', length: 50 })
  createdBy: string;

  @TimestampColumn('created_at', { defaultNow: true })
  createdAt: Date;

  @TimestampColumn('updated_at', { defaultNow: true })
  updatedAt: Date;
}
