import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

import { TimestampColumn } from '../../database/timestamp-column.js';

/**
 * A package of the price book (migration 1732000047000): `credits` plus `bonusCredits` for `amount`
 * in `currency`, its first price; `priceCurrencies` and `priceMinors` hold all its prices, one per
 * currency, in order (migration 1732006200000). Its credits and prices never change (a new price is a
 * new package); only its name and whether it is on sale do.
 */
@Entity({ name: 'packages' })
@Check('packages_package_id_check', `package_id ~ '^[a-z0-9_-]{3,50}$'`)
@Check('packages_credits_check', `credits >= 1`)
@Check('packages_bonus_credits_check', `bonus_credits >= 0`)
@Check('packages_amount_check', `amount > 0`)
@Check('packages_currency_check', `currency ~ '^[a-z]{3}$'`)
@Check('packages_expiry_days_check', `expiry_days BETWEEN 1 AND 3650`)
@Check('packages_granted_check', `credits::bigint + bonus_credits <= 2147483647`)
@Check(
  'packages_prices_check',
  `cardinality(price_currencies) BETWEEN 1 AND 20 AND cardinality(price_minors) = cardinality(price_currencies) AND price_currencies[1] = currency`,
)
@Index('packages_currency_idx', ['currency'], { where: 'active' })
export class Package {
  @PrimaryColumn({ name: 'package_id', type: 'varchar', length: 50, primaryKeyConstraintName: 'packages_pkey' })
  packageId: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ type: 'integer' })
  credits: number;

  @Column({ name: 'bonus_credits', type: 'integer', default: 0 })
  bonusCredits: number;

  @Column({ type: 'numeric', precision: 14, scale: 4 })
  amount: string;

  @Column({ type: 'varchar', length: 3 })
  currency: string;

  @Column({ name: 'expiry_days', type: 'integer', default: 365 })
  expiryDays: number;

  @Column({ type: 'boolean', default: true })
  active: boolean;

  @Column({ name: 'created_by', type: 'varchar', length: 50 })
  createdBy: string;

  @TimestampColumn('created_at', { defaultNow: true })
  createdAt: Date;

  @TimestampColumn('updated_at', { defaultNow: true })
  updatedAt: Date;

  /** Its prices' currencies, the first being `currency`. */
  @Column({ name: 'price_currencies', type: 'varchar', length: 3, array: true })
  priceCurrencies: string[];

  /** Its prices in each currency's minor units, in the order of `priceCurrencies`. */
  @Column({ name: 'price_minors', type: 'bigint', array: true })
  priceMinors: string[];
}
