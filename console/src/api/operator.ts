import { client } from './generated/client.gen';

/**
 * Operator reads of the contract's version 3 that the generated SDK does not carry yet (the server part lands on its own branch). Same client, same auth, same errors;
 * replaced by the generated calls once openapi.json describes them.
 */
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
  summary: () => ({
    queryKey: ['credits-summary'] as const,
    queryFn: () => get<CreditsSummary>('/api/credits/summary'),
  }),
};

/** `POST /api/pricing/import` (contract version 3, "Token kinds"): every rule at one instant, all or none. */
export async function importPricing(
  body: { effectiveFrom?: string; rules: unknown[] },
  idempotencyKey: string,
): Promise<unknown> {
  const { data } = await client.post<{ 201: unknown }, unknown, true>({
    url: '/api/pricing/import',
    body,
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': idempotencyKey },
    security: [{ scheme: 'bearer', type: 'http' }],
    throwOnError: true,
  });
  return data;
}
