import { Injectable } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';

import type { ResolvedAccount } from '../../auth/account-access.js';
import type { ScopeKind } from '../../common/validation/budget-scopes.js';
import { type DateRange, parseDateRange } from '../../common/validation/date-range.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { perKind, tokenColumn } from '../../pricing/token-kinds.js';
import type {
  SystemUsageStatsResponseDto,
  TokensByKindDto,
  UserUsageStatsResponseDto,
} from '../dto/usage-stats.dto.js';
import { type AggRow, type DimensionAggRow, UsageStatsRepository } from './usage-stats.repository.js';

/** An organisation's statistics: the user shape with `orgId` for `userId`, and credits per member. */
export type OrgUsageStats = Omit<UserUsageStatsResponseDto, 'userId'> & {
  orgId: string;
  byMember: Record<string, number>;
};

/**
 * The most keys a statistics map answers (byService, byDay, byModel, byUser, marginByModel): the rest
 * are summed under OTHER_KEY. Ten thousand model names would make a 2.2 MB answer.
 */
export const STATS_MAP_LIMIT = 1000;
/** The key of what a capped map leaves out (model ids cannot hold spaces; `(other)` reads as what it is). */
export const OTHER_KEY = '(other)';

/** pg returns bigint/numeric aggregates as strings: the one place they become numbers. */
const toCount = (value: string | number | null): number => Number(value ?? 0);

/**
 * Usage statistics, computed by the database (aggregates only reach Node): a user's from their
 * records, system-wide from the daily rollups (migration 1732000002100) plus the partial edge days.
 */
@Injectable()
export class UsageStatsService {
  constructor(
    private readonly stats: UsageStatsRepository,
    private readonly metrics: MetricsService,
  ) {}

  /** A user's statistics: the records their account (the one the access guard resolved) paid. */
  async userStats(
    account: ResolvedAccount,
    query: { startDate?: string; endDate?: string; groupBy?: ScopeKind },
  ): Promise<UserUsageStatsResponseDto> {
    const range = parseDateRange(query.startDate, query.endDate);
    const [{ aggs: _aggs, ...stats }, byScope] = await Promise.all([
      this.accountStats(account, range),
      query.groupBy ? this.stats.scopeAggregates(account, range, query.groupBy) : null,
    ]);
    return {
      userId: account.ownerId,
      ...stats,
      ...(byScope ? { byScope: Object.fromEntries(byScope.map((r) => [r.key, toCount(r.credits)])) } : {}),
    };
  }

  /**
   * The statistics of the records charged to an organisation (the account the org route resolved):
   * the user shape with `orgId` and `byMember` (credits per member), and `byScope` with `groupBy` as a
   * user's. Who may read them the org routes decided.
   */
  async orgStats(
    account: ResolvedAccount,
    query: { startDate?: string; endDate?: string; groupBy?: ScopeKind },
  ): Promise<OrgUsageStats> {
    const range = parseDateRange(query.startDate, query.endDate);
    const [{ aggs, ...stats }, byScope] = await Promise.all([
      this.accountStats(account, range),
      query.groupBy ? this.stats.scopeAggregates(account, range, query.groupBy) : null,
    ]);
    return {
      orgId: account.ownerId,
      ...stats,
      byMember: toMap(aggs, 'user'),
      ...(byScope ? { byScope: Object.fromEntries(byScope.map((r) => [r.key, toCount(r.credits)])) } : {}),
    };
  }

  private async accountStats(subject: Pick<ResolvedAccount, 'accountId' | 'kind'>, range: DateRange) {
    const [aggs, recent, dims] = await Promise.all([
      this.stats.userAggregates(subject, range),
      this.stats.recentRecords(subject, range, 10),
      this.stats.dimensionAggregates(range, subject),
    ]);
    const total = aggs.find((a) => a.kind === 'total');
    return {
      aggs,
      totalRecords: toCount(total?.records ?? 0),
      totalCredits: toCount(total?.credits ?? 0),
      byService: toMap(aggs, 'service'),
      byDay: toMap(aggs, 'day', 'latest'),
      byModel: toMap(aggs, 'model'),
      tokensByKind: tokensByKind(total),
      ...dimensionStats(toCount(total?.credits ?? 0), dims),
      recentActivity: recent,
    };
  }

  /** System-wide statistics: the daily rollups plus the window's partial edge days, in one snapshot. */
  async systemStats(query: {
    startDate?: string;
    endDate?: string;
    topUsers?: number;
  }): Promise<SystemUsageStatsResponseDto> {
    const range = parseDateRange(query.startDate, query.endDate);
    const [rows, dims] = await Promise.all([
      this.stats.systemAggregates(range, query.topUsers ?? 100),
      this.stats.dimensionAggregates(range),
    ]);
    const total = rows.find((r) => r.kind === 'total');
    const marginByModel = keyed<{ credits: number; providerCost: string | null }>();
    const [kept, rest] = capped(rows.filter((r) => r.kind === 'model' && r.key !== null));
    for (const r of kept) marginByModel[r.key!] = { credits: toCount(r.credits), providerCost: r.provider_cost };
    if (rest.length > 0) {
      marginByModel[OTHER_KEY] = {
        credits: rest.reduce((sum, r) => sum + toCount(r.credits), marginByModel[OTHER_KEY]?.credits ?? 0),
        providerCost: rest.reduce<string | null>(
          (sum, r) => addDecimals(sum, r.provider_cost),
          marginByModel[OTHER_KEY]?.providerCost ?? null,
        ),
      };
    }
    const firstUser = rows.find((r) => r.kind === 'user');
    return {
      totalRecords: toCount(total?.records ?? 0),
      totalCredits: toCount(total?.credits ?? 0),
      userCount: toCount(firstUser?.user_count ?? 0),
      byUser: toMap(rows, 'user'),
      byService: toMap(rows, 'service'),
      byDay: toMap(rows, 'day', 'latest'),
      byModel: toMap(rows, 'model'),
      tokensByKind: tokensByKind(total),
      ...dimensionStats(toCount(total?.credits ?? 0), dims),
      providerCost: total?.provider_cost ?? '0',
      marginByModel,
    };
  }

  /** Folds pending rollup deltas into the daily rollups (also run by the job below). */
  compactRollups(): Promise<number> {
    return this.stats.compact();
  }

  @Cron(CronExpression.EVERY_30_SECONDS, { name: 'usage-rollup-compaction', waitForCompletion: true })
  compactionJob(): Promise<void> {
    return this.metrics.runJob('usage-rollup-compaction', () => this.compactRollups());
  }
}

/**
 * An object keyed by stored text (service names, models, user ids): without a prototype, so every key
 * is an own property, `__proto__` and `constructor` included. On a plain object, assigning
 * `map['__proto__']` sets the prototype instead and the key vanished from the JSON.
 */
function keyed<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/**
 * Credits by service tier and counts by unit: the named tiers' credits as summed, the rest of the
 * window's credits under `default` (records without a tier).
 */
function dimensionStats(
  totalCredits: number,
  rows: DimensionAggRow[],
): { byServiceTier: Record<string, number>; unitsByName: Record<string, number> } {
  const byServiceTier = keyed<number>();
  const unitsByName = keyed<number>();
  let named = 0;
  for (const row of rows) {
    const value = toCount(row.value);
    if (row.kind === 'unit') unitsByName[row.key] = value;
    else {
      byServiceTier[row.key] = value;
      named += value;
    }
  }
  if (totalCredits > named) byServiceTier.default = (byServiceTier.default ?? 0) + totalCredits - named;
  return { byServiceTier, unitsByName };
}

/** The window's tokens of each kind, from the total row. */
function tokensByKind(total: AggRow | undefined): TokensByKindDto {
  return perKind((kind) => toCount(total?.[tokenColumn(kind)] ?? 0));
}

/**
 * The rows a map shows (at most STATS_MAP_LIMIT: the most credits first, or for days the latest) and
 * the rest, which it sums under OTHER_KEY.
 */
function capped(rows: AggRow[], keep: 'credits' | 'latest' = 'credits'): [AggRow[], AggRow[]] {
  if (rows.length <= STATS_MAP_LIMIT) return [rows, []];
  const order =
    keep === 'latest'
      ? (a: AggRow, b: AggRow) => (a.key! < b.key! ? 1 : -1)
      : (a: AggRow, b: AggRow) => toCount(b.credits) - toCount(a.credits) || (a.key! < b.key! ? -1 : 1);
  const sorted = [...rows].sort(order);
  return [sorted.slice(0, STATS_MAP_LIMIT), sorted.slice(STATS_MAP_LIMIT)];
}

function toMap(rows: AggRow[], kind: AggRow['kind'], keep: 'credits' | 'latest' = 'credits'): Record<string, number> {
  const map = keyed<number>();
  const [kept, rest] = capped(
    rows.filter((r) => r.kind === kind && r.key !== null),
    keep,
  );
  for (const r of kept) map[r.key!] = toCount(r.credits);
  if (rest.length > 0) map[OTHER_KEY] = rest.reduce((sum, r) => sum + toCount(r.credits), map[OTHER_KEY] ?? 0);
  return map;
}

/** Exact sum of two non-negative decimal strings (numeric from PostgreSQL); null counts as nothing. */
export function addDecimals(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  const [ai, af = ''] = a.split('.');
  const [bi, bf = ''] = b.split('.');
  const scale = Math.max(af.length, bf.length);
  const sum = BigInt(ai + af.padEnd(scale, '0')) + BigInt(bi + bf.padEnd(scale, '0'));
  if (scale === 0) return sum.toString();
  const digits = sum.toString().padStart(scale + 1, '0');
  return `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}
