import { Column, Entity, PrimaryColumn } from 'typeorm';

/** What a streaming session still holds; the per-allocation split lives in the ledger. */
@Entity({ name: 'credit_holds' })
export class CreditHold {
  @PrimaryColumn({ name: 'session_id', type: 'varchar', length: 100 })
  sessionId: string;

  @Column({ name: 'user_id', type: 'varchar', length: 50 })
  userId: string;

  @Column({ type: 'integer' })
  outstanding: number;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'settled_at', type: 'timestamptz', nullable: true })
  settledAt: Date | null;
}
