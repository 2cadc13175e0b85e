import { expect } from 'vitest';

import { bearer } from './app.js';
import { tokenFor } from './fixtures.js';
import { type GatewayHarness, PRICES, recordOf, WEB_SEARCH_PRICE } from './gateway.js';

/** What a gateway request's session held: its split estimate and units (read from the record's session). */
export interface Held {
  input: number;
  output: number;
  units: Record<string, number> | null;
  estimatedCredits: number;
  allocatedCredits: number;
}

/** The hold of a settled gateway request, by its request id. */
export async function heldOf(h: GatewayHarness, requestId: string): Promise<Held> {
  const record = await recordOf(h, requestId);
  const { rows } = await h.t.db.query(
    `SELECT estimated_input_tokens + estimated_cache_read_tokens + estimated_cache_write_tokens AS input,
            estimated_output_tokens + estimated_reasoning_tokens AS output, estimated_units AS units,
            estimated_credits, allocated_credits
       FROM streaming_sessions WHERE session_id = $1`,
    [record.metadata.sessionId],
  );
  expect(rows).toHaveLength(1);
  const row = rows[0] as Record<string, unknown>;
  return {
    input: Number(row.input),
    output: Number(row.output),
    units: (row.units as Record<string, number> | null) ?? null,
    estimatedCredits: Number(row.estimated_credits),
    allocatedCredits: Number(row.allocated_credits),
  };
}

/**
 * A second model the harness's upstreams route, with the harness's prices and `fields` (a
 * `contextWindow`, no `unitPrices`…); answers its id.
 */
export async function otherModel(h: GatewayHarness, name: string, fields: Record<string, unknown>): Promise<string> {
  const model = `${h.model}-${name}`;
  const price = (p: number) => (p / 10_000).toFixed(4);
  const res = await h.t.http
    .post('/api/pricing')
    .set(bearer(tokenFor('admin', 'gateway-admin')))
    .send({
      modelId: model,
      pricePer1kTokens: price(PRICES.input),
      outputPricePer1kTokens: price(PRICES.output),
      cacheReadPricePer1kTokens: price(PRICES.cacheRead),
      cacheWritePricePer1kTokens: price(PRICES.cacheWrite),
      reasoningPricePer1kTokens: price(PRICES.reasoning),
      ...fields,
    });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return model;
}

/** The estimate of a hold: input at cache write's price, output at reasoning's, each search at its price. */
export function estimateOf(input: number, output: number, searches = 0): number {
  return Math.ceil((input * PRICES.cacheWrite + output * PRICES.reasoning) / 10_000_000) + searches * WEB_SEARCH_PRICE;
}
