import { Injectable } from '@nestjs/common';

import { NotFoundError } from '../common/errors/domain-error.js';
import { decodeTimeCursor, DEFAULT_LIMIT, type Page, toPage } from '../common/http/pagination.js';
import type { UserResponseDto } from './dto/user.dto.js';
import { type AccountWithCredits, UsersRepository } from './users.repository.js';

function toDto({ account, totalCredits }: AccountWithCredits): UserResponseDto {
  return {
    userId: account.userId,
    email: account.email,
    username: account.username,
    role: account.role,
    createdAt: account.createdAt.toISOString(),
    totalCredits,
  };
}

@Injectable()
export class UsersService {
  constructor(private readonly users: UsersRepository) {}

  async get(userId: string): Promise<UserResponseDto> {
    const found = await this.users.findWithCredits(userId);
    if (!found) throw new NotFoundError('User');
    return toDto(found);
  }

  async list(query: { search?: string; limit?: number; cursor?: string }): Promise<Page<UserResponseDto>> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = decodeTimeCursor(query.cursor, 'text');
    const rows = await this.users.listWithCredits({ search: query.search, after, limit: limit + 1 });
    return toPage(rows, limit, toDto, (r) => ({ t: r.cursorT, id: r.account.userId }));
  }
}
