import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An expiring grant of credits; `remainingCredits` only ever moves together with a ledger entry. */
@Entity({ name: 'credit_allocations' })
export class CreditAllocation {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'user_id', type: 'varchar', length: 50 })
  userId: string;

  @Column({ name: 'total_credits', type: 'integer' })
  totalCredits: number;

  @Column({ name: 'remaining_credits', type: 'integer' })
  remainingCredits: number;

  @Column({ name: 'allocated_by', type: 'varchar', length: 50 })
  allocatedBy: string;

  @Column({ name: 'allocated_at', type: 'timestamptz' })
  allocatedAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ type: 'text', nullable: true })
  notes: string | null;

  @Column({ name: 'voided_at', type: 'timestamptz', nullable: true })
  voidedAt: Date | null;

  @Column({ name: 'voided_by', type: 'varchar', length: 50, nullable: true })
  voidedBy: string | null;

  @Column({ name: 'void_reason', type: 'text', nullable: true })
  voidReason: string | null;
}
