import { type DateRange, rangeSql } from '../common/validation/date-range.js';

/** Which records a list or export reads; `after` is the keyset cursor (newest first). */
export interface RecordsFilter {
  userId?: string;
  /** Only the records charged to this organisation (usage_records.org_id). */
  orgId?: string;
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
  if (filter.orgId !== undefined) {
    params.push(filter.orgId);
    conditions.push(`org_id = $${params.length}`);
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
