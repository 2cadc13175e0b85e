import { Check, Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

import type { PlanPeriod } from '../periods.js';

/** A recurring allowance: `credits` granted to each subscriber every `period` (docs/money.md "Plans and rollover"). */
@Entity({ name: 'plans' })
@Check('plans_id_check', `id ~ '^[a-z0-9-]+$'`)
@Check('plans_credits_check', `credits >= 1`)
@Check('plans_period_check', `period IN ('day', 'week', 'month')`)
@Check('plans_rollover_cap_check', `rollover_cap >= 0`)
@Check(
  'plans_price_check',
  `(price_minor IS NULL AND price_currency IS NULL) OR (price_minor > 0 AND price_currency ~ '^[a-z]{3}$')`,
)
@Check(
  'plans_prices_check',
  `cardinality(price_currencies) <= 20 AND cardinality(price_minors) = cardinality(price_currencies) AND (price_currency IS NULL) = (cardinality(price_currencies) = 0) AND (price_currency IS NULL OR (price_currencies[1] = price_currency AND price_minors[1] = price_minor))`,
)
export class Plan {
  @PrimaryColumn({ type: 'varchar', length: 50, primaryKeyConstraintName: 'plans_pkey' })
  id: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ type: 'integer' })
  credits: number;

  @Column({ type: 'varchar', length: 5 })
  period: PlanPeriod;

  @Column({ name: 'rollover_cap', type: 'integer', default: 0 })
  rolloverCap: number;

  @Column({ name: 'is_active', type: 'boolean', default: true })
  isActive: boolean;

  @Column({ name: 'created_by', type: 'varchar', length: 50 })
  createdBy: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  /** The models it may meter (exact ids, or prefixes ending in `*`); null: every model (docs/pricing.md). */
  @Column({ type: 'text', array: true, nullable: true })
  models: string[] | null;

  /** What a period's allowance costs, in the currency's minor units; null: promotional (migration 1732000052000). */
  @Column({ name: 'price_minor', type: 'bigint', nullable: true })
  priceMinor: string | null;

  @Column({ name: 'price_currency', type: 'varchar', length: 3, nullable: true })
  priceCurrency: string | null;

  /** What its subscribers get of each feature, `{featureKey: grant}` (docs/features.md); null: none. */
  @Column({ type: 'jsonb', nullable: true })
  features: Record<string, boolean | object> | null;

  /** Its prices' currencies, one per currency, the first being `priceCurrency` (migration 1732006200000). */
  @Column({ name: 'price_currencies', type: 'varchar', length: 3, array: true, default: () => "'{}'" })
  priceCurrencies: string[];

  /** Its prices in each currency's minor units, in the order of `priceCurrencies`. */
  @Column({ name: 'price_minors', type: 'bigint', array: true, default: () => "'{}'" })
  priceMinors: string[];
}
