import type { SessionResponseDto } from './dto/session-responses.dto.js';
import type { SessionSettlement, SessionStatus } from './entities/streaming-session.entity.js';

/** streaming_sessions rows as the module's SQL selects them, and their mapper. */
export interface SessionRow {
  session_id: string;
  user_id: string;
  model_id: string;
  estimated_tokens: number;
  estimated_credits: number;
  allocated_credits: number;
  status: SessionStatus;
  started_at: Date;
  expires_at: Date;
  settlement: SessionSettlement | null;
}

export const SESSION_COLUMNS = `session_id, user_id, model_id, estimated_tokens, estimated_credits, allocated_credits,
  status, started_at, expires_at, settlement`;

export function toSessionDto(row: SessionRow): SessionResponseDto {
  return {
    sessionId: row.session_id,
    userId: row.user_id,
    modelId: row.model_id,
    estimatedCredits: row.estimated_credits,
    allocatedCredits: row.allocated_credits,
    usedCredits: 0,
    status: row.status,
    startedAt: row.started_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
  };
}
