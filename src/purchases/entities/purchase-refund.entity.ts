import { Check, Column, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';

import { TimestampColumn } from '../../database/timestamp-column.js';
import type { RefundOrigin } from '../purchase-status.js';
import { Purchase } from './purchase.entity.js';

/** One take-back of a purchase's credits (migration 1732000034000): what left its allocation, what became debt. */
@Entity({ name: 'purchase_refunds' })
@Check('purchase_refunds_origin_check', `origin IN ('admin', 'provider', 'chargeback')`)
@Check('purchase_refunds_credits_check', `credits >= 0`)
@Check('purchase_refunds_debt_check', `debt >= 0`)
@Check('purchase_refunds_amount_check', `amount >= 0`)
@Index('purchase_refunds_purchase_idx', ['purchaseId'])
export class PurchaseRefund {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'purchase_refunds_pkey' })
  id: string;

  @ForeignKey(() => Purchase, { name: 'purchase_refunds_purchase_id_fkey' })
  @Column({ name: 'purchase_id', type: 'uuid' })
  purchaseId: string;

  @Column({ type: 'varchar', length: 20 })
  origin: RefundOrigin;

  @Column({ type: 'integer' })
  credits: number;

  @Column({ type: 'integer', default: 0 })
  debt: number;

  @Column({ type: 'numeric', precision: 14, scale: 4 })
  amount: string;

  @Column({ type: 'text', nullable: true })
  reason: string | null;

  @Column({ name: 'created_by', type: 'varchar', length: 50 })
  createdBy: string;

  @TimestampColumn('created_at', { defaultNow: true })
  createdAt: Date;
}
