import { Check, Column, Entity, ForeignKey, Index, PrimaryColumn, Unique } from 'typeorm';

import { TimestampColumn } from '../../database/timestamp-column.js';
import { CreditAllocation } from './credit-allocation.entity.js';
import { CreditTransfer } from './credit-transfer.entity.js';

/**
 * One source allocation a transfer drew on (migration 1732000033000): what left it (`transfer_out`)
 * arrived as `toAllocationId` (`transfer_in`), with the same expiry.
 */
@Entity({ name: 'credit_transfer_lots' })
@Check('credit_transfer_lots_credits_check', `credits >= 1`)
@Unique('credit_transfer_lots_to_allocation_key', ['toAllocationId'])
@Index('credit_transfer_lots_from_idx', ['fromAllocationId'])
export class CreditTransferLot {
  @ForeignKey(() => CreditTransfer, { name: 'credit_transfer_lots_transfer_id_fkey' })
  @PrimaryColumn({ name: 'transfer_id', type: 'uuid', primaryKeyConstraintName: 'credit_transfer_lots_pkey' })
  transferId: string;

  /** Its place in the transfer: soonest-expiring first. */
  @PrimaryColumn({ type: 'integer', primaryKeyConstraintName: 'credit_transfer_lots_pkey' })
  lot: number;

  @ForeignKey(() => CreditAllocation, { name: 'credit_transfer_lots_from_allocation_id_fkey' })
  @Column({ name: 'from_allocation_id', type: 'uuid' })
  fromAllocationId: string;

  @ForeignKey(() => CreditAllocation, { name: 'credit_transfer_lots_to_allocation_id_fkey' })
  @Column({ name: 'to_allocation_id', type: 'uuid' })
  toAllocationId: string;

  @Column({ type: 'integer' })
  credits: number;

  @TimestampColumn('expires_at')
  expiresAt: Date;
}
