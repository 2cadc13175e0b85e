import { Injectable } from '@nestjs/common';

import { AccountsService } from '../accounts/accounts.service.js';
import { DomainError, NotFoundError } from '../common/errors/domain-error.js';
import { decodeTimeCursor, DEFAULT_LIMIT, type Page, toPage } from '../common/http/pagination.js';
import type { SessionResponseDto } from './dto/session-responses.dto.js';
import { StreamingSessionsRepository, toSessionDto } from './streaming-sessions.repository.js';

/**
 * The position after a session: its start, then (session ids being per user) its id and its user.
 * The cursor's id is the JSON pair `[sessionId, userId]`.
 */
function sessionCursor(
  cursor: { t: string; id: string } | null,
): { t: string; sessionId: string; userId: string } | null {
  if (!cursor) return null;
  let pair: unknown;
  try {
    pair = JSON.parse(cursor.id);
  } catch {
    pair = null;
  }
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((v) => typeof v === 'string'))
    throw new DomainError('VALIDATION', 'cursor is not valid');
  return { t: cursor.t, sessionId: pair[0] as string, userId: pair[1] as string };
}

/** Active sessions for the list routes, oldest first. */
@Injectable()
export class SessionQueriesService {
  constructor(
    private readonly sessions: StreamingSessionsRepository,
    private readonly accounts: AccountsService,
  ) {}

  async listActive(query: { userId?: string; limit?: number; cursor?: string }): Promise<Page<SessionResponseDto>> {
    if (query.userId !== undefined && !(await this.accounts.exists(this.sessions.reader, query.userId))) {
      throw new NotFoundError('User');
    }
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = sessionCursor(decodeTimeCursor(query.cursor, 'text'));
    const rows = await this.sessions.listActive({ userId: query.userId, after, limit: limit + 1 });
    return toPage(rows, limit, toSessionDto, (r) => ({ t: r.cursor_t, id: JSON.stringify([r.session_id, r.user_id]) }));
  }
}
