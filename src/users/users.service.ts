import { Injectable } from '@nestjs/common';

import type { ResolvedAccount } from '../auth/account-access.js';
import { NotFoundError } from '../common/errors/domain-error.js';
import { decodeCountCursor, decodeTimeCursor, DEFAULT_LIMIT, type Page, toPage } from '../common/http/pagination.js';
import { CreditLimitsService } from '../credits/limits/credit-limits.service.js';
import { SubscriptionsService } from '../plans/subscriptions.service.js';
import type { UserListItemDto, UserResponseDto } from './dto/user.dto.js';
import type { UserOverviewDto } from './dto/user-overview.dto.js';
import { type AccountWithCredits, type UserSort, UsersRepository } from './users.repository.js';

function toDto(a: AccountWithCredits): UserResponseDto {
  return {
    userId: a.userId,
    email: a.email,
    username: a.username,
    role: a.role,
    createdAt: a.createdAt.toISOString(),
    totalCredits: a.totalCredits,
  };
}

function toListItem(a: AccountWithCredits): UserListItemDto {
  return { ...toDto(a), heldCredits: a.heldCredits, debt: a.debt };
}

/** The sort's cursor: a time for the `created` orders, a number for the others; tagged with the sort. */
function decodeUserCursor(cursor: string | undefined, sort: UserSort): { key: string; id: string } | null {
  if (sort === 'created' || sort === '-created') {
    const after = decodeTimeCursor(cursor, 'text', sort === 'created' ? undefined : sort);
    return after && { key: after.t, id: after.id };
  }
  const after = decodeCountCursor(cursor, 'text', sort);
  return after && { key: after.n, id: after.id };
}

function encodeUserCursor(a: AccountWithCredits, sort: UserSort): Record<string, string> {
  if (sort === 'created') return { t: a.cursorKey, id: a.userId };
  if (sort === '-created') return { s: sort, t: a.cursorKey, id: a.userId };
  return { s: sort, n: a.cursorKey, id: a.userId };
}

@Injectable()
export class UsersService {
  constructor(
    private readonly users: UsersRepository,
    private readonly limits: CreditLimitsService,
    private readonly subscriptions: SubscriptionsService,
  ) {}

  async get(userId: string): Promise<UserResponseDto> {
    const found = await this.users.findWithCredits(userId);
    if (!found) throw new NotFoundError('User');
    return toDto(found);
  }

  /** One user for operators: the account and its money, plan, limits and alert thresholds. */
  async overview(account: ResolvedAccount): Promise<UserOverviewDto> {
    const found = await this.users.findWithCredits(account.ownerId);
    if (!found) throw new NotFoundError('User');
    const [limits, alerts, subscription] = await Promise.all([
      this.limits.get(account),
      this.limits.getAlerts(account),
      this.subscriptions.find(account),
    ]);
    return {
      ...toListItem(found),
      erasedAt: found.erasedAt?.toISOString() ?? null,
      billingCurrency: found.billingCurrency,
      subscription,
      limits: {
        overdraftLimit: limits.overdraftLimit,
        maxCreditsPerHour: limits.maxCreditsPerHour,
        effectiveMaxCreditsPerHour: limits.effectiveMaxCreditsPerHour,
      },
      alertThresholds: alerts.thresholds,
    };
  }

  async list(query: {
    search?: string;
    sort?: UserSort;
    hasDebt?: boolean;
    planId?: string;
    limit?: number;
    cursor?: string;
  }): Promise<Page<UserListItemDto>> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const sort = query.sort ?? 'created';
    const after = decodeUserCursor(query.cursor, sort);
    const rows = await this.users.listWithCredits({
      search: query.search,
      hasDebt: query.hasDebt,
      planId: query.planId,
      sort,
      after,
      limit: limit + 1,
    });
    return toPage(rows, limit, toListItem, (r) => encodeUserCursor(r, sort));
  }
}
