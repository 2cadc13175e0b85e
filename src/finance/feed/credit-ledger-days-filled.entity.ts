import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

import { TimestampColumn } from '../../database/timestamp-column.js';

/**
 * Which ledger lines `credit_ledger_days` covers (one row, migration 1732000930000): those whose
 * `created_xid` is below `upToXid` (or null: lines older than the column) and whose id is at most
 * `upToId`. Every transaction below `upToXid` had ended when the sums were taken, so no line can join
 * the set later; the id bound keeps a copy restored on another server (whose transaction ids start
 * lower) from counting its new lines as covered. 0 and 0: never filled, every line is read live.
 */
@Entity({ name: 'credit_ledger_days_filled' })
@Check('credit_ledger_days_filled_one_check', `id = 1`)
export class CreditLedgerDaysFilled {
  @PrimaryColumn({ type: 'smallint', primaryKeyConstraintName: 'credit_ledger_days_filled_pkey' })
  id: number;

  @Column({ name: 'up_to_xid', type: 'bigint' })
  upToXid: string;

  @Column({ name: 'up_to_id', type: 'bigint' })
  upToId: string;

  /** When the sums were last brought forward (the service's clock). */
  @TimestampColumn('filled_at', { nullable: true })
  filledAt: Date | null;
}
