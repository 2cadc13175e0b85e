import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The sums of the ledger lines a roll-forward books on one UTC day, by currency and finance category
 * (migration 1732000930000): only the lines `credit_ledger_days_filled` says are covered, so a report
 * adds them to the lines outside, read live (docs/finance.md "The sums by day"). Written only by
 * CreditLedgerDaysRepository.fill(), read by the finance reports.
 */
@Entity({ name: 'credit_ledger_days' })
export class CreditLedgerDay {
  /** The valued lines' currency; '' for promotional lines (no currency, credits only). */
  @PrimaryColumn({ type: 'varchar', length: 3, primaryKeyConstraintName: 'credit_ledger_days_pkey' })
  currency: string;

  /** The UTC day of the line's booking instant (an expiry's: its allocation's expires_at); a freeze's: of created_at. */
  @PrimaryColumn({ type: 'date', primaryKeyConstraintName: 'credit_ledger_days_pkey' })
  day: string;

  /** The lines' finance category; '' for the freeze and unfreeze lines (the money disputes froze). */
  @PrimaryColumn({ type: 'varchar', length: 20, primaryKeyConstraintName: 'credit_ledger_days_pkey' })
  category: string;

  /** Their money in the currency's minor units (0 for promotional lines). */
  @Column({ name: 'value_minor', type: 'bigint' })
  valueMinor: string;

  @Column({ type: 'bigint' })
  credits: string;
}
