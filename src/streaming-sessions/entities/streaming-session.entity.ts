import { Column, Entity, PrimaryColumn } from 'typeorm';

export const SESSION_STATUSES = ['active', 'completed', 'failed', 'aborted', 'expired'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** The request that settled a session and the answer it got, kept so a retry can be replayed. */
export interface SessionSettlement {
  request: SettlementRequest;
  response: Record<string, unknown>;
}

export type SettlementRequest =
  | { kind: 'finalize'; success: boolean; tokens: number; inputTokens: number | null; outputTokens: number | null }
  | { kind: 'abort'; tokens: number; inputTokens: number | null; outputTokens: number | null }
  | { kind: 'expire' };

/** One streaming session (schema: migration 1732000003000). Written with SQL by the service. */
@Entity({ name: 'streaming_sessions' })
export class StreamingSession {
  @PrimaryColumn({ name: 'session_id', type: 'varchar', length: 100 })
  sessionId: string;

  @Column({ name: 'user_id', type: 'varchar', length: 50 })
  userId: string;

  @Column({ name: 'model_id', type: 'varchar', length: 100 })
  modelId: string;

  @Column({ name: 'estimated_tokens', type: 'integer' })
  estimatedTokens: number;

  @Column({ name: 'estimated_credits', type: 'integer' })
  estimatedCredits: number;

  @Column({ name: 'allocated_credits', type: 'integer' })
  allocatedCredits: number;

  @Column({ type: 'varchar', length: 20, default: 'active' })
  status: SessionStatus;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'settled_at', type: 'timestamptz', nullable: true })
  settledAt: Date | null;

  @Column({ name: 'actual_tokens', type: 'integer', nullable: true })
  actualTokens: number | null;

  @Column({ name: 'actual_credits', type: 'integer', nullable: true })
  actualCredits: number | null;

  @Column({ type: 'integer', nullable: true })
  refund: number | null;

  @Column({ type: 'integer', nullable: true })
  shortfall: number | null;

  @Column({ name: 'usage_record_id', type: 'uuid', nullable: true })
  usageRecordId: string | null;

  @Column({ name: 'pricing_rule_id', type: 'uuid', nullable: true })
  pricingRuleId: string | null;

  @Column({ type: 'jsonb', nullable: true })
  settlement: SessionSettlement | null;
}
