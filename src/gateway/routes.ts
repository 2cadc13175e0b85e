import type { GatewayFormat } from '../config/gateway-config.js';
import type { ProviderUsageFormat } from '../pricing/provider-usage.js';

/** One provider route the gateway serves: the upstream format it needs and the usage format it reads. */
export interface GatewayRoute {
  /** The path after `/v1`, appended to the upstream's baseUrl. */
  path: string;
  format: GatewayFormat;
  usage: ProviderUsageFormat;
  /** Whether `stream: true` is a streamed answer (embeddings never stream). */
  streams: boolean;
  /** Whether the request has an output side to bound (embeddings have none). */
  output: boolean;
}

export const GATEWAY_ROUTES: readonly GatewayRoute[] = [
  { path: '/chat/completions', format: 'openai', usage: 'openai.chat', streams: true, output: true },
  { path: '/responses', format: 'openai', usage: 'openai.responses', streams: true, output: true },
  // An embedding's usage is {prompt_tokens, total_tokens}: chat's names, with no completion.
  { path: '/embeddings', format: 'openai', usage: 'openai.chat', streams: false, output: false },
  { path: '/messages', format: 'anthropic', usage: 'anthropic', streams: true, output: true },
];
