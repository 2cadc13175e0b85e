import { queryOptions } from '@tanstack/react-query';

import { client } from './generated/client.gen';
import type { AllocationListResponseDto, UserUsageStatsResponseDto } from './generated/types.gen';

/**
 * The org account's reads of the contract (GET /api/orgs/:orgId/allocations and /usage/stats), not yet
 * in openapi.json when these screens were written: fetched through the generated client's transport
 * (its auth and base URL) with the contract's shapes. Once the routes are in the document, replace each
 * with its generated `…Options` (same keys under ['org', orgId] keep lib/invalidate.ts right).
 */
export type OrgUsageStats = Omit<UserUsageStatsResponseDto, 'userId'> & {
  orgId: string;
  byMember: Record<string, number>;
};

export function orgAllocationsOptions(orgId: string) {
  return queryOptions({
    queryKey: ['org', orgId, 'allocations'],
    queryFn: async () => {
      const { data, error } = await client.get<{ 200: AllocationListResponseDto }, unknown, false>({
        url: '/api/orgs/{orgId}/allocations',
        path: { orgId },
        query: { includeExpired: true, limit: 500 },
        security: [{ scheme: 'bearer', type: 'http' }],
      });
      if (error !== undefined) throw error;
      return data;
    },
  });
}

export function orgUsageStatsOptions(orgId: string, startDate: string) {
  return queryOptions({
    queryKey: ['org', orgId, 'usage-stats', startDate],
    queryFn: async () => {
      const { data, error } = await client.get<{ 200: OrgUsageStats }, unknown, false>({
        url: '/api/orgs/{orgId}/usage/stats',
        path: { orgId },
        query: { startDate },
        security: [{ scheme: 'bearer', type: 'http' }],
      });
      if (error !== undefined) throw error;
      return data;
    },
  });
}
