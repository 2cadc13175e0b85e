import { Check, Column, Entity, Exclusion, ForeignKey, Index, PrimaryColumn } from 'typeorm';

import { Account } from '../../accounts/entities/account.entity.js';
import { Org } from '../../accounts/entities/org.entity.js';
import { UserAccount } from '../../accounts/entities/user-account.entity.js';
import { TimestampColumn } from '../../database/timestamp-column.js';
import type { UnitPrices } from '../dimensions.js';
import { PriceColumn } from './columns.js';

/**
 * An account's own price for a model (or a prefix ending in `*`) over [effectiveFrom, effectiveTo):
 * a discount on every per-kind price of the model's rule, or per-kind prices that replace the rule's
 * (docs/pricing.md "Account prices"). One account's prices of one model never overlap (EXCLUDE).
 * It names its account (`accountId`, what pricing keys it by) and that account's owner (`userId` or
 * `orgId`, what the API answers), the pair tied to the account's own by a foreign key each.
 */
@Entity({ name: 'account_prices' })
@Check('account_prices_owner_check', `(user_id IS NULL) <> (org_id IS NULL)`)
@Check('account_prices_discount_check', `discount_percent >= 0 AND discount_percent <= 100`)
@Check(
  'account_prices_form_check',
  `(discount_percent IS NULL) <> (price_per_1k_tokens IS NULL AND output_price_per_1k_tokens IS NULL
        AND cache_read_price_per_1k_tokens IS NULL AND cache_write_price_per_1k_tokens IS NULL
        AND reasoning_price_per_1k_tokens IS NULL AND long_context_threshold IS NULL AND unit_prices IS NULL)`,
)
@Check(
  'account_prices_long_context_check',
  `(long_context_threshold IS NULL) = (long_context_price_per_1k_tokens IS NULL)
        AND (long_context_threshold IS NULL) = (long_context_output_price_per_1k_tokens IS NULL)`,
)
@Check(
  'account_prices_prices_check',
  `price_per_1k_tokens >= 0 AND output_price_per_1k_tokens >= 0 AND cache_read_price_per_1k_tokens >= 0
        AND cache_write_price_per_1k_tokens >= 0 AND reasoning_price_per_1k_tokens >= 0 AND long_context_threshold >= 0
        AND long_context_price_per_1k_tokens >= 0 AND long_context_output_price_per_1k_tokens >= 0`,
)
@Check('account_prices_period_check', `effective_to IS NULL OR effective_to > effective_from`)
@Exclusion(
  'account_prices_no_overlap',
  `USING gist (COALESCE(user_id, '') WITH =, COALESCE(org_id, '') WITH =, model_id WITH =, tstzrange(effective_from, effective_to, '[)') WITH &&)`,
)
@Index('account_prices_user_idx', ['userId'])
@Index('account_prices_org_idx', ['orgId'])
@Index('account_prices_account_idx', ['accountId', 'modelId'])
@ForeignKey(() => Account, ['accountId', 'userId'], ['accountId', 'userId'], {
  name: 'account_prices_account_user_fkey',
})
@ForeignKey(() => Account, ['accountId', 'orgId'], ['accountId', 'orgId'], { name: 'account_prices_account_org_fkey' })
export class AccountPrice {
  @PrimaryColumn({ type: 'uuid', default: () => 'uuid_v7()', primaryKeyConstraintName: 'account_prices_pkey' })
  id: string;

  @ForeignKey(() => UserAccount, { name: 'account_prices_user_id_fkey' })
  @Column({ name: 'user_id', type: 'varchar', length: 50, nullable: true })
  userId: string | null;

  @ForeignKey(() => Org, { name: 'account_prices_org_id_fkey' })
  @Column({ name: 'org_id', type: 'varchar', length: 50, nullable: true })
  orgId: string | null;

  /** An exact model id, or a prefix ending in `*`. */
  @Column({ name: 'model_id', type: 'varchar', length: 100 })
  modelId: string;

  @Column({ name: 'discount_percent', type: 'numeric', precision: 5, scale: 2, nullable: true })
  discountPercent: string | null;

  @PriceColumn('price_per_1k_tokens')
  pricePer1kTokens: string | null;

  @PriceColumn('output_price_per_1k_tokens')
  outputPricePer1kTokens: string | null;

  @PriceColumn('cache_read_price_per_1k_tokens')
  cacheReadPricePer1kTokens: string | null;

  @PriceColumn('cache_write_price_per_1k_tokens')
  cacheWritePricePer1kTokens: string | null;

  @PriceColumn('reasoning_price_per_1k_tokens')
  reasoningPricePer1kTokens: string | null;

  @Column({ name: 'long_context_threshold', type: 'integer', nullable: true })
  longContextThreshold: number | null;

  @PriceColumn('long_context_price_per_1k_tokens')
  longContextPricePer1kTokens: string | null;

  @PriceColumn('long_context_output_price_per_1k_tokens')
  longContextOutputPricePer1kTokens: string | null;

  @TimestampColumn('effective_from')
  effectiveFrom: Date;

  @TimestampColumn('effective_to', { nullable: true })
  effectiveTo: Date | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  notes: string | null;

  @Column({ name: 'created_by', type: 'varchar', length: 50 })
  createdBy: string;

  @TimestampColumn('created_at', { defaultNow: true })
  createdAt: Date;

  /** Unit prices that replace the rule's (migration 1732000400000); null: the rule's. */
  @Column({ name: 'unit_prices', type: 'jsonb', nullable: true })
  unitPrices: UnitPrices | null;

  /** The account priced (migration 1732007600000). */
  @ForeignKey(() => Account, { name: 'account_prices_account_id_fkey' })
  @Column({ name: 'account_id', type: 'bigint' })
  accountId: string;
}
