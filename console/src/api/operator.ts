import { client } from './generated/client.gen';

/**
 * `POST /api/pricing/import` (contract version 3, "Token kinds": every rule at one instant, all or
 * none), which openapi.json does not describe yet: the same client, auth and errors as the generated
 * calls; replaced by the generated mutation once the route is in the document.
 */
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
