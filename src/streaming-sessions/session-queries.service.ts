import { Injectable } from '@nestjs/common';

import { NotFoundError } from '../common/errors/domain-error.js';
import { decodeTimeCursor, DEFAULT_LIMIT, type Page, toPage } from '../common/http/pagination.js';
import { AccountsService } from '../users/accounts.service.js';
import type { SessionResponseDto } from './dto/session-responses.dto.js';
import { StreamingSessionsRepository, toSessionDto } from './streaming-sessions.repository.js';

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
    const after = decodeTimeCursor(query.cursor, 'text');
    const rows = await this.sessions.listActive({ userId: query.userId, after, limit: limit + 1 });
    return toPage(rows, limit, toSessionDto, (r) => ({ t: r.cursor_t, id: r.session_id }));
  }
}
