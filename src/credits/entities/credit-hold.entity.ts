import { Check, Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';

import { UserAccount } from '../../accounts/entities/user-account.entity.js';

/** What a streaming session still holds; the per-allocation split lives in the ledger. */
@Entity({ name: 'credit_holds' })
@Check('credit_holds_outstanding_check', `outstanding >= 0`)
@Index('credit_holds_user_idx', ['userId'], { where: 'settled_at IS NULL' })
export class CreditHold {
  @PrimaryColumn({ name: 'session_id', type: 'varchar', length: 100, primaryKeyConstraintName: 'credit_holds_pkey' })
  sessionId: string;

  @ForeignKey(() => UserAccount, { name: 'credit_holds_user_id_fkey' })
  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 50, primaryKeyConstraintName: 'credit_holds_pkey' })
  userId: string;

  @Column({ type: 'integer' })
  outstanding: number;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'settled_at', type: 'timestamptz', nullable: true })
  settledAt: Date | null;

  /** The budgeted API key the hold counted against, and that key's period then. */
  @Column({ name: 'api_key_id', type: 'uuid', nullable: true })
  apiKeyId: string | null;

  @Column({ name: 'key_period_start', type: 'timestamptz', nullable: true })
  keyPeriodStart: Date | null;
}
