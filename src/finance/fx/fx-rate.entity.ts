import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

import { TimestampColumn } from '../../database/timestamp-column.js';

/**
 * One FX rate of one UTC day (migration 1732006300000): how many units of `base` (the
 * REPORTING_CURRENCY it was stored for) one unit of `currency` is worth. Written only by
 * FxRatesRepository.replaceDay(); the reports convert each ledger line at its own day's rate.
 */
@Entity({ name: 'finance_fx_rates' })
@Check('finance_fx_rates_rate_check', `rate > 0`)
@Check('finance_fx_rates_base_check', `base <> currency`)
@Index('finance_fx_rates_day_idx', ['base', 'day'])
export class FxRate {
  @PrimaryColumn({ type: 'varchar', length: 3, primaryKeyConstraintName: 'finance_fx_rates_pkey' })
  base: string;

  @PrimaryColumn({ type: 'varchar', length: 3, primaryKeyConstraintName: 'finance_fx_rates_pkey' })
  currency: string;

  @PrimaryColumn({ type: 'date', primaryKeyConstraintName: 'finance_fx_rates_pkey' })
  day: string;

  /** At most 10 significant digits, > 0 (fxRateProblem()). */
  @Column({ type: 'numeric' })
  rate: string;

  @TimestampColumn('stored_at', { defaultNow: true })
  storedAt: Date;
}
