/**
 * What the kit reads from a provider's stream, and nothing more: the provider's own usage object
 * (sent to the service as it is: the service maps it to token kinds), whether the provider said the
 * answer ended (and why), and how many chunks carried generated output (the count an abort falls
 * back on when the provider reported no usage before the stop). Chunks are read, never changed.
 */

/** `providerUsage.format` as the service accepts it (docs/provider-usage.md "Where it is accepted"). */
export type UsageFormat = 'openai.chat' | 'openai.responses' | 'anthropic' | 'gemini';

export const USAGE_FORMATS: readonly UsageFormat[] = ['openai.chat', 'openai.responses', 'anthropic', 'gemini'];

/** How a stream ended, as `finalize` and `abort` take it. */
export type Termination = 'completed' | 'max_tokens' | 'client_abort' | 'upstream_error';

export interface Reading {
  /** The provider's usage object as it stands (the latest report; Anthropic's merged, see below). */
  usage?: Record<string, unknown>;
  /** Chunks that carried generated output (text, reasoning, tool input, refusal). */
  outputChunks: number;
  /** Set when the provider said the answer ended: normally, at the token limit, or failed. */
  end?: Exclude<Termination, 'client_abort'>;
  /** Anthropic: the stop reason of `message_delta`, applied at `message_stop`. */
  stopReason?: string | null;
  /**
   * The service tier the provider says it served the request at (OpenAI's `service_tier`: `default`,
   * `flex`, `priority`…), sent as `providerUsage.serviceTier`; Anthropic's is inside its usage object.
   */
  serviceTier?: string;
  /** The model the provider says answered (`model`, Gemini's `modelVersion`, the AI SDK's `modelId`). */
  model?: string;
}

export type Reader = (chunk: unknown, reading: Reading) => void;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null;
const nonEmpty = (value: unknown) => (typeof value === 'string' ? value.length > 0 : value != null);

/** Chat Completions chunks; usage arrives in one last chunk (`choices: []`) when `include_usage` is set. */
const openaiChat: Reader = (chunk, r) => {
  if (!isObject(chunk)) return;
  if (isObject(chunk.usage)) r.usage = chunk.usage;
  if (typeof chunk.service_tier === 'string') r.serviceTier = chunk.service_tier;
  if (typeof chunk.model === 'string') r.model = chunk.model;
  const choices = Array.isArray(chunk.choices) ? (chunk.choices as Json[]) : [];
  let output = false;
  for (const choice of choices) {
    const delta = isObject(choice.delta) ? choice.delta : {};
    if (nonEmpty(delta.content) || nonEmpty(delta.refusal) || nonEmpty(delta.tool_calls)) output = true;
    if (typeof choice.finish_reason === 'string')
      r.end = choice.finish_reason === 'length' ? 'max_tokens' : 'completed';
  }
  if (output) r.outputChunks++;
};

/** Responses API events: usage on the terminal event's `response.usage`. */
const openaiResponses: Reader = (chunk, r) => {
  if (!isObject(chunk) || typeof chunk.type !== 'string') return;
  const response = isObject(chunk.response) ? chunk.response : undefined;
  const usage = response && isObject(response.usage) ? response.usage : undefined;
  if (response && typeof response.service_tier === 'string') r.serviceTier = response.service_tier;
  if (response && typeof response.model === 'string') r.model = response.model;
  switch (chunk.type) {
    case 'response.completed':
      r.usage = usage ?? r.usage;
      r.end = 'completed';
      return;
    case 'response.incomplete': {
      const details = response && isObject(response.incomplete_details) ? response.incomplete_details : {};
      r.usage = usage ?? r.usage;
      r.end = details.reason === 'max_output_tokens' ? 'max_tokens' : 'completed';
      return;
    }
    case 'response.failed':
      r.usage = usage ?? r.usage;
      r.end = 'upstream_error';
      return;
    default:
      if (chunk.type.endsWith('.delta') && nonEmpty(chunk.delta)) r.outputChunks++;
  }
};

/**
 * Messages API events. `message_start` carries the prompt's usage; each `message_delta` carries
 * usage counts that are CUMULATIVE (the totals so far, never increments): a count it gives replaces
 * the one held, it is never added to it.
 */
const anthropic: Reader = (chunk, r) => {
  if (!isObject(chunk) || typeof chunk.type !== 'string') return;
  switch (chunk.type) {
    case 'message_start': {
      const message = isObject(chunk.message) ? chunk.message : {};
      if (typeof message.model === 'string') r.model = message.model;
      if (isObject(message.usage)) r.usage = { ...message.usage };
      return;
    }
    case 'content_block_delta':
      r.outputChunks++;
      return;
    case 'message_delta': {
      if (isObject(chunk.usage)) {
        const merged: Json = { ...r.usage };
        for (const [key, value] of Object.entries(chunk.usage)) if (value != null) merged[key] = value;
        r.usage = merged;
      }
      const delta = isObject(chunk.delta) ? chunk.delta : {};
      if (delta.stop_reason !== undefined) r.stopReason = delta.stop_reason as string | null;
      return;
    }
    case 'message_stop':
      r.end = r.stopReason === 'max_tokens' ? 'max_tokens' : 'completed';
      return;
    default:
      return;
  }
};

/** `GenerateContentResponse` chunks; each may carry `usageMetadata`, the latest is the total so far. */
const gemini: Reader = (chunk, r) => {
  if (!isObject(chunk)) return;
  if (isObject(chunk.usageMetadata)) r.usage = chunk.usageMetadata;
  if (typeof chunk.modelVersion === 'string') r.model = chunk.modelVersion;
  const candidates = Array.isArray(chunk.candidates) ? (chunk.candidates as Json[]) : [];
  const first = candidates[0];
  if (!first) return;
  const content = isObject(first.content) ? first.content : {};
  if (Array.isArray(content.parts) && content.parts.length > 0) r.outputChunks++;
  if (typeof first.finishReason === 'string' && first.finishReason !== 'FINISH_REASON_UNSPECIFIED') {
    r.end = first.finishReason === 'MAX_TOKENS' ? 'max_tokens' : 'completed';
  }
};

export const READERS: Record<UsageFormat, Reader> = {
  'openai.chat': openaiChat,
  'openai.responses': openaiResponses,
  anthropic,
  gemini,
};

/** What the kit needs merged into the provider request: OpenAI Chat sends usage only when asked. */
export function paramsFor(format: UsageFormat): ProviderParams {
  return format === 'openai.chat' ? { stream_options: { include_usage: true } } : {};
}

export type ProviderParams = { stream_options?: { include_usage: true } };

/**
 * The AI SDK's language-model stream parts (`LanguageModelV4StreamPart`, also V2/V3): the provider's
 * usage object is the `finish` part's `usage.raw` (the provider's own, in `format`).
 */
export const aiSdkParts: Reader = (part, r) => {
  if (!isObject(part) || typeof part.type !== 'string') return;
  switch (part.type) {
    case 'text-delta':
    case 'reasoning-delta':
    case 'tool-input-delta':
      if (nonEmpty(part.delta)) r.outputChunks++;
      return;
    case 'error':
      r.end = 'upstream_error';
      return;
    case 'response-metadata':
      if (typeof part.modelId === 'string') r.model = part.modelId;
      return;
    case 'finish': {
      const usage = isObject(part.usage) ? part.usage : {};
      if (isObject(usage.raw)) r.usage = usage.raw;
      const reason = isObject(part.finishReason) ? part.finishReason.unified : part.finishReason;
      if (r.end !== 'upstream_error')
        r.end = reason === 'length' ? 'max_tokens' : reason === 'error' ? 'upstream_error' : 'completed';
      return;
    }
    default:
      return;
  }
};
