import type { GatewayUpstream } from '../config/gateway-config.js';
import { isBaseTier } from '../pricing/dimensions.js';
import type { PricingRuleView } from '../pricing/pricing.service.js';
import type { ProviderUsage, Termination } from '../pricing/provider-usage.js';
import type { RecordExtras } from '../streaming-sessions/settlement-plan.js';
import type { GatewayRoute } from './routes.js';

/** Why a gateway request's session was settled as it was (docs/gateway.md "Settlement"). */
export const SETTLEMENT_REASONS = ['reported', 'client_abort', 'upstream_error', 'expired'] as const;
export type SettlementReason = (typeof SETTLEMENT_REASONS)[number];

/** One gateway request as its settlement needs it: what was held and what happened. */
export interface GatewayRequest {
  requestId: string;
  sessionId: string;
  route: GatewayRoute;
  upstream: GatewayUpstream;
  rule: PricingRuleView;
  /** The input and output bounds the hold was priced at. */
  inputBound: number;
  outputBound: number;
}

export interface Outcome {
  reason: Exclude<SettlementReason, 'expired'>;
  /** The status the client got (0: none, it went away first). */
  status: number;
  usage: Record<string, unknown> | null;
  serviceTier: string | null;
  termination: Termination;
  /** The UTF-8 bytes of output text the client was sent. */
  outputBytes: number;
  /** Whether the request went upstream at all (a client gone during admission: it did not). */
  sentUpstream: boolean;
}

/**
 * The record's service and `metadata.gateway` for a request: who asked what of which upstream, with
 * how it ended. Stored at admission too (status 0: the service never learned what the client got,
 * reason `expired`), so that the session expiry's record names the request when no instance settles it.
 */
export function recordExtras(
  request: Pick<GatewayRequest, 'requestId' | 'upstream' | 'route'>,
  ending: { status: number; reason: SettlementReason } & Record<string, unknown>,
): RecordExtras {
  return {
    service: 'gateway',
    metadata: {
      gateway: {
        requestId: request.requestId,
        upstream: request.upstream.name,
        route: `/v1${request.route.path}`,
        ...ending,
      },
    },
  };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * The providerUsage a settlement sends for an upstream's usage: the tier kept only when the rule
 * prices it (or it is a base tier), and units the rule does not price taken out (the answer has
 * already gone: they stay on the record's metadata, uncharged). Answers the units taken out.
 */
export function providerUsageOf(
  request: GatewayRequest,
  usage: Record<string, unknown>,
  reportedTier: string | null,
): { providerUsage: ProviderUsage; unpricedUnits: Record<string, number> | null } {
  const tiers = request.rule.serviceTiers ?? {};
  const serviceTier =
    reportedTier !== null && (isBaseTier(reportedTier) || Object.hasOwn(tiers, reportedTier))
      ? reportedTier
      : 'default';
  let kept = usage;
  let unpricedUnits: Record<string, number> | null = null;
  const tools = usage.server_tool_use;
  const searches = isObject(tools) ? tools.web_search_requests : undefined;
  if (
    typeof searches === 'number' &&
    searches > 0 &&
    !Object.hasOwn(request.rule.unitPrices ?? {}, 'web_search_call')
  ) {
    const { server_tool_use: _tools, ...rest } = usage;
    kept = rest;
    unpricedUnits = { web_search_call: searches };
  }
  return { providerUsage: { format: request.route.usage, usage: kept, serviceTier }, unpricedUnits };
}

/**
 * The counts of a request cut off without any usage reported: the input bound (the provider had the
 * prompt) plus the output text streamed so far, each never beyond the bound it was held at, so the
 * charge never exceeds the hold.
 */
export function boundedCounts(
  request: GatewayRequest,
  outputBytes: number,
): { inputTokens: number; outputTokens: number } {
  return { inputTokens: request.inputBound, outputTokens: Math.min(outputBytes, request.outputBound) };
}
