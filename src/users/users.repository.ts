import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';

import { withAccountSql } from '../accounts/accounts.sql.js';
import { UserAccount } from '../accounts/entities/user-account.entity.js';
import type { Role } from '../auth/roles.js';
import { cursorTimestampSql } from '../common/http/pagination.js';
import { availableCreditsSql, debtSql, heldCreditsSql } from '../engine/credit-sql.js';
import { subscribedToPlanSql } from '../plans/plans.sql.js';

/** An account with its money: available credits (holds are out of them), held credits and debt. */
export interface AccountWithCredits {
  userId: string;
  email: string | null;
  username: string | null;
  role: Role;
  createdAt: Date;
  /** When the person was erased (docs/erasure.md); null: not erased. */
  erasedAt: Date | null;
  totalCredits: number;
  heldCredits: number;
  debt: number;
  /** The currency the account pays in (docs/selling.md); null until set. */
  billingCurrency: string | null;
  /** The sort key of the page's order, for the keyset cursor (created_at with microseconds). */
  cursorKey: string;
}

export const USER_SORTS = ['created', '-created', '-balance', '-debt'] as const;
export type UserSort = (typeof USER_SORTS)[number];

/** Each order's key (a column of the query below), its direction, and the key's type for the cursor. */
const ORDERS: Record<UserSort, { key: string; cursorKey: string; cast: string; desc: boolean }> = {
  created: { key: 'x.created_at', cursorKey: 'x.created_t', cast: 'timestamptz', desc: false },
  '-created': { key: 'x.created_at', cursorKey: 'x.created_t', cast: 'timestamptz', desc: true },
  '-balance': { key: 'x.total_credits', cursorKey: 'x.total_credits', cast: 'bigint', desc: true },
  '-debt': { key: 'x.debt', cursorKey: 'x.debt', cast: 'bigint', desc: true },
};

export interface UserListQuery {
  search?: string;
  hasDebt?: boolean;
  planId?: string;
  sort: UserSort;
  /** The last row's sort key and id (the sort's own: a time for `created`, a number otherwise). */
  after: { key: string; id: string } | null;
  limit: number;
}

interface AccountSqlRow {
  user_id: string;
  email: string | null;
  username: string | null;
  role: Role;
  created_at: Date;
  erased_at: Date | null;
  total_credits: string;
  held_credits: string;
  debt: string;
  billing_currency: string | null;
  cursor_key: string;
}

function toAccount(r: AccountSqlRow): AccountWithCredits {
  return {
    userId: r.user_id,
    email: r.email,
    username: r.username,
    role: r.role,
    createdAt: r.created_at,
    erasedAt: r.erased_at,
    totalCredits: Number(r.total_credits),
    heldCredits: Number(r.held_credits),
    debt: Number(r.debt),
    billingCurrency: r.billing_currency,
    cursorKey: r.cursor_key,
  };
}

const USER_ACCOUNT = 'ua.account_id';

/** Accounts with their money, from the credits module's SQL parts. */
const ACCOUNTS_WITH_CREDITS = `
  SELECT u.user_id, u.email, u.username, u.role, u.created_at, u.erased_at, ${cursorTimestampSql('u.created_at')} AS created_t,
         ${availableCreditsSql(USER_ACCOUNT)} AS total_credits,
         ${heldCreditsSql(USER_ACCOUNT)} AS held_credits,
         ${debtSql(USER_ACCOUNT)} AS debt, ua.billing_currency
    FROM user_accounts u ${withAccountSql('u.user_id', 'user', 'ua')}`;

/** The users list and overview: user_accounts with their credits (the account rows themselves are src/accounts/'s). */
@Injectable()
export class UsersRepository {
  constructor(@InjectRepository(UserAccount) private readonly accounts: Repository<UserAccount>) {}

  async findWithCredits(userId: string): Promise<AccountWithCredits | null> {
    const rows: AccountSqlRow[] = await this.accounts.query(
      `SELECT x.*, x.created_t AS cursor_key FROM (${ACCOUNTS_WITH_CREDITS} WHERE u.user_id = $1) x`,
      [userId],
    );
    return rows.length > 0 ? toAccount(rows[0]) : null;
  }

  /**
   * Accounts in `sort` order (ties by user id, in the same direction), matching `search` in id,
   * email or username (case-insensitive), with or without debt, subscribed to `planId`. The keyset
   * compares the row's (key, id) with the cursor's, so each order pages without repeats or gaps.
   */
  async listWithCredits(query: UserListQuery): Promise<AccountWithCredits[]> {
    const order = ORDERS[query.sort];
    const params: unknown[] = [];
    const inner: string[] = [];
    const outer: string[] = [];
    if (query.search) {
      params.push(`%${query.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      const p = `$${params.length}`;
      inner.push(`(u.user_id ILIKE ${p} OR u.email ILIKE ${p} OR u.username ILIKE ${p})`);
    }
    if (query.planId !== undefined) {
      params.push(query.planId);
      inner.push(subscribedToPlanSql(USER_ACCOUNT, `$${params.length}`));
    }
    if (query.hasDebt !== undefined) outer.push(query.hasDebt ? 'x.debt > 0' : 'x.debt = 0');
    if (query.after) {
      params.push(query.after.key, query.after.id);
      const cmp = order.desc ? '<' : '>';
      outer.push(`(${order.key}, x.user_id) ${cmp} ($${params.length - 1}::${order.cast}, $${params.length}::varchar)`);
    }
    params.push(query.limit);
    const dir = order.desc ? 'DESC' : 'ASC';
    const rows: AccountSqlRow[] = await this.accounts.query(
      `SELECT x.*, ${order.cursorKey}::text AS cursor_key
         FROM (${ACCOUNTS_WITH_CREDITS} ${inner.length ? `WHERE ${inner.join(' AND ')}` : ''}) x
        ${outer.length ? `WHERE ${outer.join(' AND ')}` : ''}
        ORDER BY ${order.key} ${dir}, x.user_id ${dir}
        LIMIT $${params.length}`,
      params,
    );
    return rows.map(toAccount);
  }
}
