import type { GatewayRoute } from './routes.js';

/** The request fields whose text reaches the model: messages, prompts, instructions, tools. */
const CONTENT_FIELDS = ['messages', 'input', 'system', 'instructions', 'prompt', 'tools', 'functions', 'tool_choice'];
/** The fields that bound the answer, per API: Anthropic's and chat's, chat's newer one, the Responses API's. */
const OUTPUT_FIELDS = ['max_tokens', 'max_completion_tokens', 'max_output_tokens'];
/** Beyond this depth a body is refused (a hold is never computed over an unbounded walk). */
const MAX_DEPTH = 64;

export class AdmissionProblem extends Error {}

/** The UTF-8 bytes of every string under `value`, keys included (tool schemas name their fields). */
function textBytes(value: unknown, depth: number): number {
  if (depth > MAX_DEPTH) throw new AdmissionProblem(`The request nests deeper than ${MAX_DEPTH} levels`);
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (Array.isArray(value)) return value.reduce<number>((sum, item) => sum + textBytes(item, depth + 1), 0);
  if (value !== null && typeof value === 'object') {
    let sum = 0;
    for (const [key, item] of Object.entries(value)) sum += Buffer.byteLength(key, 'utf8') + textBytes(item, depth + 1);
    return sum;
  }
  return 0;
}

/**
 * The input side's bound: the UTF-8 bytes of the request's text and tool content. No tokenizer maps
 * fewer than one byte to a token, so the provider can never report more input tokens than this.
 */
export function inputBound(body: Record<string, unknown>): number {
  return CONTENT_FIELDS.reduce((sum, field) => sum + (field in body ? textBytes(body[field], 1) : 0), 0);
}

/**
 * The output side's bound: the limit the request names, else the rule's `maxOutputTokens`, else the
 * gateway's default. A named limit that is not a positive integer is refused before anything is held.
 */
export function outputBound(
  body: Record<string, unknown>,
  route: GatewayRoute,
  ruleMax: number | null,
  fallback: number,
): number {
  if (!route.output) return 0;
  for (const field of OUTPUT_FIELDS) {
    const value = body[field];
    if (value === undefined || value === null) continue;
    if (!Number.isSafeInteger(value) || (value as number) < 1)
      throw new AdmissionProblem(`${field} must be a positive integer`);
    return value as number;
  }
  return ruleMax ?? fallback;
}

/** The tier a request asks for: null for none or `auto` (held at the rule's dearest), else its name. */
export function requestedTier(body: Record<string, unknown>): string | null {
  const tier = body.service_tier;
  if (typeof tier !== 'string' || tier === 'auto') return null;
  // Anthropic's way of naming the base tier.
  return tier === 'standard_only' ? 'standard' : tier;
}
