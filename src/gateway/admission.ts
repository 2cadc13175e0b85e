import { isObject } from '../common/is-object.js';
import type { Units } from '../pricing/dimensions.js';
import type { PricingRuleView } from '../pricing/pricing.service.js';
import type { GatewayRoute } from './routes.js';

/** The request fields whose text reaches the model: messages, prompts, instructions, tools, output schemas. */
const CONTENT_FIELDS = [
  'messages',
  'input',
  'system',
  'instructions',
  'prompt',
  'tools',
  'functions',
  'tool_choice',
  'text',
  'response_format',
  'output_format',
];
/** The output limit each route's provider honours, first found first; any other limit field bounds nothing. */
const OUTPUT_FIELDS: Record<string, readonly string[]> = {
  '/chat/completions': ['max_completion_tokens', 'max_tokens'],
  '/responses': ['max_output_tokens'],
  '/messages': ['max_tokens'],
};
/** Beyond this depth a body is refused (a hold is never computed over an unbounded walk). */
const MAX_DEPTH = 64;
/** The unit a web search is priced as (docs/provider-usage.md). */
export const WEB_SEARCH_UNIT = 'web_search_call';

/** The refusals of admission (docs/gateway.md "What can change the cost"), each a 400 in the provider's shape. */
export type AdmissionCode = 'VALIDATION' | 'UNBOUNDED_INPUT' | 'UNPRICED_UNIT' | 'UNSUPPORTED_MODE';

export class AdmissionProblem extends Error {
  constructor(
    message: string,
    readonly code: AdmissionCode = 'VALIDATION',
  ) {
    super(message);
  }
}

/** The gateway's own limits (GATEWAY_MAX_OUTPUT_TOKENS, GATEWAY_MAX_CHOICES, GATEWAY_MAX_TOOL_USES). */
export interface AdmissionLimits {
  maxOutputTokens: number;
  maxChoices: number;
  maxToolUses: number;
}

/** What a request can cost at most: input and output tokens, and the priced units it can use. */
export interface Bounds {
  input: number;
  output: number;
  units: Units | null;
}

/**
 * The model's context window: the most input one request can bring, whatever the body refers to.
 * The rule's own `contextWindow`; null when the model has none known.
 */
export function contextWindowOf(rule: Pick<PricingRuleView, 'contextWindow'>): number | null {
  return rule.contextWindow ?? null;
}

/**
 * The UTF-8 bytes of every string under `value`, keys included (tool schemas name their fields), and
 * one for each number (an embedding's input may be token ids).
 */
function textBytes(value: unknown, depth: number): number {
  if (depth > MAX_DEPTH) throw new AdmissionProblem(`The request nests deeper than ${MAX_DEPTH} levels`);
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number') return 1;
  if (Array.isArray(value)) return value.reduce<number>((sum, item) => sum + textBytes(item, depth + 1), 0);
  if (value !== null && typeof value === 'object') {
    let sum = 0;
    for (const [key, item] of Object.entries(value)) sum += Buffer.byteLength(key, 'utf8') + textBytes(item, depth + 1);
    return sum;
  }
  return 0;
}

/**
 * The input side's bound when the body holds all of it: the UTF-8 bytes of the request's text and
 * tool content. No tokenizer maps fewer than one byte to a token, so the provider can never report
 * more input tokens than this.
 */
export function inputBound(body: Record<string, unknown>): number {
  return CONTENT_FIELDS.reduce((sum, field) => sum + (field in body ? textBytes(body[field], 1) : 0), 0);
}

/** Request fields that bring input the body does not contain (a stored conversation, a stored prompt, MCP servers). */
const REFERRING_FIELDS = ['previous_response_id', 'conversation', 'mcp_servers', 'container'];
/** Keys whose string value is a reference to content elsewhere (a data: URL is content, in the body). */
const REFERENCE_KEYS = new Set(['file_id', 'file_url', 'url', 'image_url', 'audio_url', 'video_url']);
/** Content parts whose tokens their bytes do not bound (a PDF page is rendered as an image too). */
const FILE_TYPES = new Set(['document', 'file', 'input_file']);

/** What, under `value`, refers to input the body does not contain; null: nothing. */
function reference(value: unknown, depth: number): string | null {
  if (depth > MAX_DEPTH) throw new AdmissionProblem(`The request nests deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = reference(item, depth + 1);
      if (found !== null) return found;
    }
    return null;
  }
  if (!isObject(value)) return null;
  if (value.type === 'item_reference') return 'an item_reference';
  if (typeof value.type === 'string' && FILE_TYPES.has(value.type)) {
    const source = value.source;
    // A plain-text document is in the body; a PDF or a stored file is not bounded by its bytes.
    if (!(isObject(source) && (source.type === 'text' || source.type === 'content'))) return `a ${value.type}`;
  }
  for (const [key, item] of Object.entries(value)) {
    if (REFERENCE_KEYS.has(key) && typeof item === 'string' && !item.startsWith('data:')) return key;
    const found = reference(item, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

/** A tool's kind: one the client runs (its result comes back as body text), a web search, or another server-side tool. */
function toolKind(tool: unknown): 'client' | 'web_search' | 'server_input' | 'unsupported' {
  if (!isObject(tool)) return 'client';
  const type = tool.type;
  if (type === undefined || type === 'function' || type === 'custom') return 'client';
  if (typeof type !== 'string') return 'unsupported';
  if (type.startsWith('web_search')) return 'web_search';
  // Tools the client runs (Anthropic's computer, bash, editor and memory tools; OpenAI's shells).
  if (/^(computer|bash|text_editor|memory|local_shell|shell|apply_patch)/.test(type)) return 'client';
  // Server-side tools that add input only: fetched pages, MCP servers' results.
  if (type.startsWith('web_fetch') || type === 'mcp') return 'server_input';
  // Anything else runs on the provider's side at a price its usage does not report.
  return 'unsupported';
}

/**
 * Everything a request can cost (docs/gateway.md "What can change the cost"): the input (its text's
 * bytes, or the model's context window when it brings input the body does not contain), the output
 * (the route's own limit, else the rule's, else the gateway's, × `n`), and the priced units of its
 * server-side tools (each at its `max_uses`, else GATEWAY_MAX_TOOL_USES). A request that cannot be
 * bounded is refused before anything is held or sent.
 */
export function admissionBounds(
  body: Record<string, unknown>,
  route: GatewayRoute,
  rule: Pick<PricingRuleView, 'contextWindow' | 'maxOutputTokens' | 'unitPrices'>,
  limits: AdmissionLimits,
): Bounds {
  if (body.background !== undefined && body.background !== false && body.background !== null)
    throw new AdmissionProblem(
      'background requests are not supported: their usage is not known when the answer ends',
      'UNSUPPORTED_MODE',
    );
  const tools = Array.isArray(body.tools) ? body.tools : [];
  let searches = 0;
  let serverInput = false;
  for (const tool of tools) {
    const kind = toolKind(tool);
    if (kind === 'unsupported')
      throw new AdmissionProblem(
        `The tool ${String((tool as Record<string, unknown>).type)} is not supported: its price is not in the usage`,
        'UNSUPPORTED_MODE',
      );
    if (kind === 'server_input') serverInput = true;
    if (kind === 'web_search') searches += toolUses(tool as Record<string, unknown>, body, limits);
  }
  // Chat's search models search on their own when asked with web_search_options.
  if (route.path === '/chat/completions' && body.web_search_options !== undefined && body.web_search_options !== null)
    searches += limits.maxToolUses;
  if (searches > 0 && !Object.hasOwn(rule.unitPrices ?? {}, WEB_SEARCH_UNIT))
    throw new AdmissionProblem(
      `Web search is not priced for this model (its rule has no ${WEB_SEARCH_UNIT} price)`,
      'UNPRICED_UNIT',
    );
  const referred =
    REFERRING_FIELDS.find((field) => body[field] !== undefined && body[field] !== null) ??
    (isObject(body.prompt) ? 'prompt' : null) ??
    (searches > 0 || serverInput ? 'a server-side tool' : null) ??
    reference(body.messages, 1) ??
    reference(body.input, 1) ??
    reference(body.system, 1) ??
    reference(body.instructions, 1);
  // The body's text is walked either way: its depth is refused before anything is held.
  const bytes = inputBound(body);
  let input = bytes;
  if (referred !== null) {
    const window = contextWindowOf(rule);
    if (window === null)
      throw new AdmissionProblem(
        `The request brings input the body does not contain (${referred}) and the model has no known context window`,
        'UNBOUNDED_INPUT',
      );
    input = window;
  }
  return {
    input,
    output: outputBound(body, route, rule.maxOutputTokens, limits),
    units: searches > 0 ? { [WEB_SEARCH_UNIT]: searches } : null,
  };
}

/** A web search tool's uses: its `max_uses` (Anthropic), else the request's `max_tool_calls` (Responses), else the default. */
function toolUses(tool: Record<string, unknown>, body: Record<string, unknown>, limits: AdmissionLimits): number {
  for (const [name, value] of [
    ['max_uses', tool.max_uses],
    ['max_tool_calls', body.max_tool_calls],
  ] as const) {
    if (value === undefined || value === null) continue;
    if (!Number.isSafeInteger(value) || (value as number) < 1 || (value as number) > 1000)
      throw new AdmissionProblem(`${name} must be an integer from 1 to 1000`);
    return value as number;
  }
  return limits.maxToolUses;
}

/**
 * The output side's bound: the limit field the route's provider honours, else the rule's
 * `maxOutputTokens`, else the gateway's default; × `n` on chat completions, whose predicted output
 * adds its own bytes per choice. A named limit that is not a positive integer is refused.
 */
export function outputBound(
  body: Record<string, unknown>,
  route: GatewayRoute,
  ruleMax: number | null,
  limits: Pick<AdmissionLimits, 'maxOutputTokens' | 'maxChoices'>,
): number {
  if (!route.output) return 0;
  let limit: number | null = null;
  for (const field of OUTPUT_FIELDS[route.path] ?? []) {
    const value = body[field];
    if (value === undefined || value === null) continue;
    if (!Number.isSafeInteger(value) || (value as number) < 1)
      throw new AdmissionProblem(`${field} must be a positive integer`);
    limit = value as number;
    break;
  }
  limit ??= ruleMax ?? limits.maxOutputTokens;
  if (route.path !== '/chat/completions') return limit;
  const n = body.n ?? 1;
  if (n !== null && (!Number.isSafeInteger(n) || (n as number) < 1 || (n as number) > limits.maxChoices))
    throw new AdmissionProblem(`n must be an integer from 1 to ${limits.maxChoices}`);
  // Rejected predicted tokens are billed as output: at most the prediction's own bytes.
  const predicted = body.prediction === undefined ? 0 : textBytes(body.prediction, 1);
  return (limit + predicted) * ((n as number | null) ?? 1);
}

/** The tier a request asks for: null for none or `auto` (held at the rule's dearest), else its name. */
export function requestedTier(body: Record<string, unknown>): string | null {
  const tier = body.service_tier;
  if (typeof tier !== 'string' || tier === 'auto') return null;
  // Anthropic's way of naming the base tier.
  return tier === 'standard_only' ? 'standard' : tier;
}
