import { Check, Column, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';

import { Account } from '../../accounts/entities/account.entity.js';
import { TimestampColumn } from '../../database/timestamp-column.js';

/**
 * A transfer of credits from one account to another (migration 1732000033000): written by
 * credits_transfer() with its lots (CreditTransferLot) and their ledger entries.
 */
@Entity({ name: 'credit_transfers' })
@Check('credit_transfers_credits_check', `credits >= 1`)
@Check('credit_transfers_accounts_check', `from_account_id <> to_account_id`)
@Index('credit_transfers_from_idx', ['fromAccountId', 'createdAt', 'id'])
@Index('credit_transfers_to_idx', ['toAccountId', 'createdAt', 'id'])
@Index('credit_transfers_created_idx', ['createdAt', 'id'])
export class CreditTransfer {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'credit_transfers_pkey' })
  id: string;

  @ForeignKey(() => Account, { name: 'credit_transfers_from_account_id_fkey' })
  @Column({ name: 'from_account_id', type: 'bigint' })
  fromAccountId: string;

  @ForeignKey(() => Account, { name: 'credit_transfers_to_account_id_fkey' })
  @Column({ name: 'to_account_id', type: 'bigint' })
  toAccountId: string;

  @Column({ type: 'integer' })
  credits: number;

  @Column({ type: 'text', nullable: true })
  reason: string | null;

  @Column({ name: 'created_by', type: 'varchar', length: 50 })
  createdBy: string;

  @TimestampColumn('created_at', { defaultNow: true })
  createdAt: Date;
}
