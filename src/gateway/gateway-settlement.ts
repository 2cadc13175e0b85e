import { isObject } from '../common/is-object.js';
import type { GatewayUpstream } from '../config/gateway-config.js';
import { isBaseTier, type Units } from '../pricing/dimensions.js';
import type { PricingRuleView } from '../pricing/pricing.service.js';
import { mapProviderUsage, type ProviderUsage, type Termination } from '../pricing/provider-usage.js';
import { COMPLETION_KINDS, KIND_SIDE, perField, sumOf, type TokenField, tokenField } from '../pricing/token-kinds.js';
import type { AbortSessionDto } from '../streaming-sessions/dto/session-requests.dto.js';
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
  /** What was held (docs/gateway.md "Admission: the worst case, held first"): the bounds at the dearest kinds, the units, the tier. */
  held: { split: TokenSplit; units: Units | null; serviceTier: string | null };
}

/** Token counts per kind, as a session's initialize and abort take them. */
export type TokenSplit = Pick<AbortSessionDto, TokenField>;

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
  /** A start-of-stream usage (Anthropic's message_start): input counts only. */
  startUsage: Record<string, unknown> | null;
  /** Web searches the stream showed starting. */
  webSearches: number;
  /** Whether the answer reached its own end (a whole body read; a stream's provider end). */
  complete: boolean;
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
 * The units an answer showed that its usage does not report, when the rule prices them: the Responses
 * API's web searches (its stream's `web_search_call` items), and chat completions' searches
 * (`web_search_options`), which neither the answer nor its usage counts, so charged as held (their
 * bound, GATEWAY_MAX_TOOL_USES: never less than the provider billed). Anthropic's are in its usage
 * (`server_tool_use`).
 */
export function shownUnits(request: GatewayRequest, outcome: Outcome): { units?: Units } {
  const searches = searchesOf(request, outcome);
  return searches > 0 ? { units: { web_search_call: searches } } : {};
}

/**
 * The web searches a request is charged when its usage does not count them, when its rule prices them
 * (see shownUnits()); a cut request's are at most the searches it held (cutCounts()).
 */
function searchesOf(request: GatewayRequest, outcome: Outcome): number {
  if (!Object.hasOwn(request.rule.unitPrices ?? {}, 'web_search_call')) return 0;
  const held = request.held.units?.web_search_call ?? 0;
  if (request.route.path === '/chat/completions') return held;
  if (request.route.usage !== 'openai.responses') return 0;
  return outcome.webSearches;
}

/**
 * The counts of a request that ended without its final usage (docs/gateway.md "Settlement"): input
 * as the upstream reported it (a start-of-stream usage), else the input bound; output the larger of
 * the output reported and the UTF-8 bytes of output text sent to the client, at most the output
 * bound; the web searches it showed when the rule prices them (chat completions' as held: it shows
 * none); at the tier reported or asked for.
 * A stream cut at any byte so pays at least for the text it delivered, and never beyond its hold.
 */
export function cutCounts(request: GatewayRequest, outcome: Outcome): Omit<AbortSessionDto, 'sessionId'> {
  const reported = outcome.startUsage
    ? mapProviderUsage({ format: request.route.usage, usage: outcome.startUsage })
    : null;
  const kinds = reported && 'kinds' in reported ? reported.kinds : null;
  // The prompt's kinds as reported; unreported, the whole input bound is input.
  const counts = perField((kind) =>
    KIND_SIDE[kind] !== 'prompt' ? 0 : kinds ? kinds[kind] : kind === 'input' ? request.inputBound : 0,
  );
  const reportedOutput = kinds ? sumOf((kind) => kinds[kind], COMPLETION_KINDS) : 0;
  let output = Math.min(Math.max(reportedOutput, outcome.outputBytes), request.outputBound);
  // The completion's other kinds (reasoning) as reported, within that output; output is the rest.
  for (const kind of COMPLETION_KINDS.filter((k) => k !== 'output')) {
    counts[tokenField(kind)] = Math.min(kinds?.[kind] ?? 0, output);
    output -= counts[tokenField(kind)];
  }
  counts.outputTokens = output;
  const searches = Math.min(searchesOf(request, outcome), request.held.units?.web_search_call ?? 0);
  const tier = pricedTier(request, outcome.serviceTier) ?? pricedTier(request, request.held.serviceTier);
  return {
    ...counts,
    ...(searches > 0 ? { units: { web_search_call: searches } } : {}),
    ...(tier ? { serviceTier: tier } : {}),
    termination: outcome.termination,
  };
}

/** `tier` when the request's rule prices it by name (a base tier or none: null, the base prices). */
function pricedTier(request: GatewayRequest, tier: string | null): string | null {
  return tier !== null && !isBaseTier(tier) && Object.hasOwn(request.rule.serviceTiers ?? {}, tier) ? tier : null;
}
