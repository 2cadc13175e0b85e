import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';

import { expect } from 'vitest';

import { bearer, startTestApp, type TestApp } from './app.js';
import { Fixtures, tokenFor } from './fixtures.js';
import { type Kinds, ProviderStandIn } from './provider-stand-in.js';
import { until } from './until.js';

/** Prices of the gateway specs' rule, in ten-thousandths of a credit per 1,000 tokens (exact arithmetic). */
export const PRICES: Record<keyof Kinds, number> = {
  input: 100_000,
  output: 200_000,
  cacheRead: 50_000,
  cacheWrite: 125_000,
  reasoning: 300_000,
};
/** web_search_call's price, credits per call. */
export const WEB_SEARCH_PRICE = 3;

/** credits = ceil(Σ tokens × price / 1000 + Σ calls × unit price), in integers. */
export function creditsOf(k: Kinds, searches = 0): number {
  const tenMillionths =
    (Object.keys(PRICES) as (keyof Kinds)[]).reduce((sum, kind) => sum + k[kind] * PRICES[kind], 0) +
    searches * WEB_SEARCH_PRICE * 10_000_000;
  return Math.ceil(tenMillionths / 10_000_000);
}

/** The worst-case hold of a request: the input bound at cacheWrite's price, the output bound at reasoning's, × 6/5. */
export function holdOf(inputBytes: number, outputTokens: number): { estimate: number; hold: number } {
  const estimate = Math.ceil((inputBytes * PRICES.cacheWrite + outputTokens * PRICES.reasoning) / 10_000_000);
  return { estimate, hold: Math.ceil((estimate * 6) / 5) };
}

export const OPENAI_KEY = `sk-proj-standin-${randomUUID()}`;
export const ANTHROPIC_KEY = `sk-ant-api03-standin-${randomUUID()}`;

export interface GatewayHarness {
  t: TestApp;
  f: Fixtures;
  standIn: ProviderStandIn;
  /** The gateway's origin (http://127.0.0.1:port). */
  origin: string;
  /** A model the rule prices and both upstreams route. */
  model: string;
  users: string[];
  /** The gateway's environment (upstreams and provider keys), for a server started as its own process. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** An app with a gateway in front of a provider stand-in, a rule for `model`, listening on a port. */
export async function startGateway(env: Record<string, string> = {}): Promise<GatewayHarness> {
  const standIn = new ProviderStandIn();
  const url = await standIn.start();
  const prefix = `gw${randomUUID().slice(0, 8)}`;
  const model = `${prefix}-model`;
  const gatewayEnv = {
    GATEWAY_UPSTREAMS: JSON.stringify([
      { name: 'openai', format: 'openai', baseUrl: url, apiKeyEnv: 'GW_SPEC_OPENAI_KEY', models: [`${prefix}-*`] },
      {
        name: 'anthropic',
        format: 'anthropic',
        baseUrl: url,
        apiKeyEnv: 'GW_SPEC_ANTHROPIC_KEY',
        models: [`${prefix}-*`],
      },
    ]),
    GW_SPEC_OPENAI_KEY: OPENAI_KEY,
    GW_SPEC_ANTHROPIC_KEY: ANTHROPIC_KEY,
  };
  const t = await startTestApp({ ...gatewayEnv, METERING_TRUST: 'service', ...env });
  const origin = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  const users: string[] = [];
  const f = new Fixtures(t, { users, prefix: 'gw' });
  const price = (p: number) => (p / 10_000).toFixed(4);
  const rule = await t.http
    .post('/api/pricing')
    .set(bearer(tokenFor('admin', 'gateway-admin')))
    .send({
      modelId: model,
      pricePer1kTokens: price(PRICES.input),
      outputPricePer1kTokens: price(PRICES.output),
      cacheReadPricePer1kTokens: price(PRICES.cacheRead),
      cacheWritePricePer1kTokens: price(PRICES.cacheWrite),
      reasoningPricePer1kTokens: price(PRICES.reasoning),
      unitPrices: { web_search_call: String(WEB_SEARCH_PRICE) },
    });
  expect(rule.status, JSON.stringify(rule.body)).toBe(201);
  return {
    t,
    f,
    standIn,
    origin,
    model,
    users,
    env: gatewayEnv,
    close: async () => {
      await t.close();
      await standIn.close();
    },
  };
}

export interface GatewayRecord {
  id: string;
  service: string;
  credits: number;
  usage_source: string;
  metadata: {
    sessionId: string;
    gateway: { requestId: string; upstream: string; route: string; status: number; reason: string };
  };
  provider_usage: unknown;
}

/** The one record of a gateway request, once its settlement (after the answer) has written it. */
export async function recordOf(h: GatewayHarness, requestId: string): Promise<GatewayRecord> {
  const read = async () =>
    (
      await h.t.db.query(
        `SELECT id, service, credits, usage_source, metadata, provider_usage FROM usage_records
          WHERE metadata->'gateway'->>'requestId' = $1`,
        [requestId],
      )
    ).rows as GatewayRecord[];
  await until(`request ${requestId} is settled`, async () => (await read()).length > 0);
  const rows = await read();
  expect(rows).toHaveLength(1);
  return rows[0];
}
