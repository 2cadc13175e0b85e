import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Append-only (a trigger refuses UPDATE and DELETE): one signed movement of one allocation. */
@Entity({ name: 'credit_ledger' })
export class CreditLedgerEntry {
  @PrimaryColumn({ type: 'bigint' })
  id: string;

  @Column({ name: 'user_id', type: 'varchar', length: 50 })
  userId: string;

  @Column({ name: 'allocation_id', type: 'uuid' })
  allocationId: string;

  @Column({ type: 'varchar', length: 10 })
  kind: 'grant' | 'debit' | 'hold' | 'release' | 'expire' | 'void';

  @Column({ type: 'integer' })
  amount: number;

  @Column({ name: 'balance_after', type: 'bigint' })
  balanceAfter: string;

  @Column({ name: 'session_id', type: 'varchar', length: 100, nullable: true })
  sessionId: string | null;

  @Column({ name: 'usage_record_id', type: 'uuid', nullable: true })
  usageRecordId: string | null;

  @Column({ name: 'created_by', type: 'varchar', length: 50 })
  createdBy: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
