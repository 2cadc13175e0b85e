import type { ResolvedAccount } from '../auth/account-access.js';
import { type DateRange, rangeSql } from '../common/validation/date-range.js';

/** Which records a list or export reads; `after` is the keyset cursor (newest first). */
export interface RecordsFilter {
  /** Only the records charged to this account (`account_id`), as the route resolved it (an organisation's). */
  account?: Pick<ResolvedAccount, 'accountId'>;
  /**
   * Only this user's use (usage_records.user_id): of their own account and, as a member, of their
   * organisations'; within `account`, one member's.
   */
  userId?: string;
  service?: string;
  modelId?: string;
  range: DateRange;
  after: { t: string; id: string } | null;
}

/** The WHERE clause of a records filter and its values. */
export function filterSql(filter: RecordsFilter): { where: string; params: unknown[] } {
  const params: unknown[] = [];
  const conditions: string[] = [];
  if (filter.userId !== undefined) {
    params.push(filter.userId);
    conditions.push(`user_id = $${params.length}`);
  }
  if (filter.account !== undefined) {
    // By the account that paid: an account's records are read through their index
    // (account_id, "timestamp" DESC, id DESC), newest first, as the list pages them.
    params.push(filter.account.accountId);
    conditions.push(`account_id = $${params.length}::bigint`);
  }
  if (filter.service !== undefined) {
    params.push(filter.service);
    conditions.push(`service = $${params.length}`);
  }
  if (filter.modelId !== undefined) {
    params.push(filter.modelId);
    conditions.push(`model_id = $${params.length}`);
  }
  // Placed at when the usage occurred; paged (and ordered) by when it was written.
  conditions.push(...rangeSql(filter.range, 'occurred_at', params));
  if (filter.after) {
    params.push(filter.after.t, filter.after.id);
    conditions.push(`("timestamp", id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  return { where: conditions.length ? `WHERE ${conditions.join(' AND ')}` : '', params };
}
