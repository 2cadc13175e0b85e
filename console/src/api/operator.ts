import { client } from './generated/client.gen';

/**
 * Operator reads of the contract's "Audit log" and "Reads for operators" that the generated SDK
 * does not carry yet (the server part lands on its own branch). Same client, same auth, same errors;
 * replaced by the generated calls once openapi.json describes them.
 */
export interface AuditEntry {
  id: string;
  at: string;
  actor: { userId: string; role: string; via: 'jwt' | 'api-key'; apiKeyId?: string | null };
  action: string;
  target: { type: string; id: string };
  before: unknown;
  after: unknown;
  requestId: string | null;
}

export interface AuditQuery {
  actor?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  from?: string;
  to?: string;
  cursor?: string;
  limit?: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface CreditsSummary {
  available: number;
  held: number;
  debt: number;
  expiringWithin7Days: number;
  byDay: Array<{ date: string; granted: number; spent: number; expired: number; voided: number }>;
}

async function get<T>(url: string, query?: object): Promise<T> {
  const { data } = await client.get<{ 200: T }, unknown, true>({
    url,
    query: query as Record<string, unknown>,
    security: [{ scheme: 'bearer', type: 'http' }],
    throwOnError: true,
  });
  return data as T;
}

export const operatorQueries = {
  audit: (query: AuditQuery) => ({
    queryKey: ['audit', query] as const,
    queryFn: ({ pageParam }: { pageParam: string | undefined }) =>
      get<Page<AuditEntry>>('/api/audit', { ...query, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last: Page<AuditEntry>) => last.nextCursor ?? undefined,
  }),
  summary: () => ({
    queryKey: ['credits-summary'] as const,
    queryFn: () => get<CreditsSummary>('/api/credits/summary'),
  }),
};

/** `POST /api/pricing/import` (contract version 3, "Token kinds"): every rule at one instant, all or none. */
export async function importPricing(body: { effectiveFrom?: string; rules: unknown[] }, idempotencyKey: string): Promise<unknown> {
  const { data } = await client.post<{ 201: unknown }, unknown, true>({
    url: '/api/pricing/import',
    body,
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': idempotencyKey },
    security: [{ scheme: 'bearer', type: 'http' }],
    throwOnError: true,
  });
  return data;
}
