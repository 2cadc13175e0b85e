import { isObject } from '../common/is-object.js';
import type { Termination } from '../pricing/provider-usage.js';
import type { GatewayRoute } from './routes.js';

/** What an answer reported about itself: its usage (the last snapshot), its tier, and whether it was cut at its limit. */
export interface Reported {
  usage: Record<string, unknown> | null;
  serviceTier: string | null;
  termination: Termination;
  /** Web searches the answer shows (the Responses API's web_search_call items; Anthropic reports its own in usage). */
  webSearches: number;
}

/** A whole (non-streamed) answer's usage, tier and ending, in its route's format. */
export function readAnswer(route: GatewayRoute, body: unknown): Reported {
  if (!isObject(body)) return { usage: null, serviceTier: null, termination: 'completed', webSearches: 0 };
  const usage = isObject(body.usage) ? body.usage : null;
  const serviceTier = typeof body.service_tier === 'string' ? body.service_tier : null;
  const termination = truncated(route, body) ? 'max_tokens' : 'completed';
  return { usage, serviceTier, termination, webSearches: route.usage === 'openai.responses' ? searchesIn(body) : 0 };
}

/** The web_search_call items of a Responses answer's output. */
function searchesIn(response: Record<string, unknown>): number {
  const output = Array.isArray(response.output) ? response.output : [];
  return output.filter((item) => isObject(item) && item.type === 'web_search_call').length;
}

/** An answer stopped by its output limit (still billed as reported: termination `max_tokens`). */
function truncated(route: GatewayRoute, body: Record<string, unknown>): boolean {
  if (route.usage === 'anthropic') return body.stop_reason === 'max_tokens';
  if (route.usage === 'openai.responses')
    return isObject(body.incomplete_details) && body.incomplete_details.reason === 'max_output_tokens';
  return Array.isArray(body.choices) && body.choices.some((c) => isObject(c) && c.finish_reason === 'length');
}

/**
 * Follows a stream's events: the last usage snapshot (never a sum: OpenAI's usage chunk, the Responses
 * API's final `response`, Anthropic's message_start usage overlaid by message_delta's cumulative one),
 * the tier, how it ended, and the UTF-8 bytes of the output text so far (what a cut-off stream is
 * charged for at least). Anthropic's message_start reports input only: `startUsage`, never `usage`.
 */
export class StreamReader {
  /** The answer's usage, once the provider reported it whole (never a start-of-stream snapshot). */
  usage: Record<string, unknown> | null = null;
  /** A start-of-stream usage (Anthropic's message_start): its input counts only. */
  startUsage: Record<string, unknown> | null = null;
  /** Web searches the stream has shown starting (Anthropic's server_tool_use blocks). */
  webSearches = 0;
  serviceTier: string | null = null;
  termination: Termination = 'completed';
  outputBytes = 0;
  /** The stream reached its provider's own end (usage chunk, response.completed…, message_stop). */
  ended = false;

  constructor(private readonly route: GatewayRoute) {}

  /** Reads one event's data; answers whether it is OpenAI's usage-only chunk (which the client may not have asked for). */
  see(data: string): { usageChunk: boolean } {
    if (data === '[DONE]') {
      this.ended = true;
      return { usageChunk: false };
    }
    let event: unknown;
    try {
      event = JSON.parse(data);
    } catch {
      return { usageChunk: false };
    }
    if (!isObject(event)) return { usageChunk: false };
    if (this.route.usage === 'anthropic') this.anthropic(event);
    else if (this.route.usage === 'openai.responses') this.responses(event);
    else return { usageChunk: this.chat(event) };
    return { usageChunk: false };
  }

  private text(value: unknown): void {
    if (typeof value === 'string') this.outputBytes += Buffer.byteLength(value, 'utf8');
  }

  private chat(chunk: Record<string, unknown>): boolean {
    if (typeof chunk.service_tier === 'string') this.serviceTier = chunk.service_tier;
    const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
    for (const choice of choices) {
      if (!isObject(choice)) continue;
      if (choice.finish_reason === 'length') this.termination = 'max_tokens';
      const delta = isObject(choice.delta) ? choice.delta : {};
      this.text(delta.content);
      this.text(delta.refusal);
      for (const call of Array.isArray(delta.tool_calls) ? delta.tool_calls : [])
        if (isObject(call) && isObject(call.function)) this.text(call.function.arguments);
    }
    if (!isObject(chunk.usage)) return false;
    this.usage = chunk.usage;
    return choices.length === 0;
  }

  private responses(event: Record<string, unknown>): void {
    const type = event.type;
    if (type === 'response.output_text.delta' || type === 'response.function_call_arguments.delta')
      this.text(event.delta);
    if (type === 'response.output_item.added' && isObject(event.item) && event.item.type === 'web_search_call')
      this.webSearches += 1;
    if (type !== 'response.completed' && type !== 'response.incomplete' && type !== 'response.failed') return;
    this.ended = true;
    const response = isObject(event.response) ? event.response : {};
    if (isObject(response.usage)) this.usage = response.usage;
    if (typeof response.service_tier === 'string') this.serviceTier = response.service_tier;
    if (isObject(response.incomplete_details) && response.incomplete_details.reason === 'max_output_tokens')
      this.termination = 'max_tokens';
  }

  private anthropic(event: Record<string, unknown>): void {
    if (event.type === 'message_start' && isObject(event.message) && isObject(event.message.usage)) {
      // Input only: its output_tokens is a snapshot taken before any output, never the answer's.
      const { output_tokens: _snapshot, ...input } = event.message.usage;
      this.startUsage = input;
    } else if (event.type === 'content_block_start' && isObject(event.content_block)) {
      const block = event.content_block;
      if (block.type === 'server_tool_use' && block.name === 'web_search') this.webSearches += 1;
    } else if (event.type === 'content_block_delta' && isObject(event.delta)) {
      this.text(event.delta.text);
      this.text(event.delta.partial_json);
      this.text(event.delta.thinking);
    } else if (event.type === 'message_delta') {
      // Cumulative counts: they replace message_start's, and the fields it lacks stay.
      if (isObject(event.usage))
        this.usage = {
          ...this.startUsage,
          ...this.usage,
          ...Object.fromEntries(Object.entries(event.usage).filter(([, value]) => value !== null)),
        };
      if (isObject(event.delta) && event.delta.stop_reason === 'max_tokens') this.termination = 'max_tokens';
    } else if (event.type === 'message_stop') this.ended = true;
    const tier = (this.usage ?? this.startUsage)?.service_tier;
    if (typeof tier === 'string') this.serviceTier = tier;
  }
}
