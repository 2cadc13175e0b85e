import { DomainError } from '../common/errors/domain-error.js';
import { isObject } from '../common/is-object.js';
import { MAX_TOKENS } from '../common/validation/amounts.js';
import { addUnits, type Dimensions, tierProblem, type Units, unitsOrNull } from './dimensions.js';
import type { TokenKinds } from './pricing-math.js';
import { hasKinds, type TokenCounts, tokenCounts, type TokenKindFields } from './token-counts.js';
import { sumOf } from './token-kinds.js';

/**
 * Provider usage (docs/provider-usage.md):
 * a provider's own usage object mapped to the five token kinds, here and nowhere else. Each format
 * names the counts it reads; a count it names but the object lacks (or has as null) counts 0, any
 * other field is ignored, but an object with none of them is refused. A count that is negative, not an integer, or larger than the total it is
 * part of is refused: it would bill a negative kind.
 */
export const PROVIDER_USAGE_FORMATS = ['openai.chat', 'openai.responses', 'anthropic', 'gemini'] as const;
export type ProviderUsageFormat = (typeof PROVIDER_USAGE_FORMATS)[number];
export interface ProviderUsage {
  format: ProviderUsageFormat;
  usage: Record<string, unknown>;
  /** The tier the provider served it at (OpenAI's `service_tier`); anthropic: the usage's own counts when absent. */
  serviceTier?: string;
}
/** The most a providerUsage may take as JSON (a usage object is a few hundred bytes). */
export const PROVIDER_USAGE_MAX_BYTES = 4096;

/** Where a record's token counts came from (`usageSource`, docs/provider-usage.md "What a record keeps"). */
export const USAGE_SOURCES = ['provider', 'reported', 'estimated'] as const;
export type UsageSource = (typeof USAGE_SOURCES)[number];
/** How a streamed answer ended, as finalize and abort report it. */
export const TERMINATIONS = ['completed', 'max_tokens', 'client_abort', 'upstream_error'] as const;
export type Termination = (typeof TERMINATIONS)[number];

class UsageProblem extends Error {}

/**
 * Reads a usage object's counts: `count(...path)` is the count at `path` (`usage.a.b`), 0 when it or
 * an object on the way is absent or null; `found` says whether any count read was there at all.
 */
interface Counts {
  count: (...path: string[]) => number;
  found: () => boolean;
}

function counts(usage: Record<string, unknown>): Counts {
  let found = false;
  return {
    count: (...path) => {
      const n = count(usage, path);
      if (n !== null) found = true;
      return n ?? 0;
    },
    found: () => found,
  };
}

/** The count at `path`, or null when it or an object on the way is absent or null. */
function count(usage: Record<string, unknown>, path: string[]): number | null {
  let value: unknown = usage;
  for (const [i, key] of path.entries()) {
    if (value === undefined || value === null) return null;
    if (!isObject(value)) throw new UsageProblem(`usage.${path.slice(0, i).join('.')} must be an object`);
    value = Object.hasOwn(value, key) ? value[key] : undefined;
  }
  if (value === undefined || value === null) return null;
  if (!Number.isSafeInteger(value) || (value as number) < 0 || (value as number) > MAX_TOKENS)
    throw new UsageProblem(`usage.${path.join('.')} must be an integer from 0 to ${MAX_TOKENS}`);
  return value as number;
}

/** `whole − part`, refusing a part larger than the whole it belongs to. */
function less(whole: number, wholeName: string, part: number, partName: string): number {
  if (part > whole)
    throw new UsageProblem(
      `usage.${partName} (${part}) must not exceed usage.${wholeName} (${whole}), which includes it`,
    );
  return whole - part;
}

/** The table of docs/provider-usage.md "The mapping", one function per format. */
const MAPPINGS: Record<ProviderUsageFormat, (u: Counts) => TokenKinds> = {
  // cached_tokens are part of prompt_tokens; reasoning_tokens part of completion_tokens.
  'openai.chat': (u) => {
    const cacheRead = u.count('prompt_tokens_details', 'cached_tokens');
    const reasoning = u.count('completion_tokens_details', 'reasoning_tokens');
    return {
      input: less(u.count('prompt_tokens'), 'prompt_tokens', cacheRead, 'prompt_tokens_details.cached_tokens'),
      cacheRead,
      cacheWrite: 0,
      output: less(
        u.count('completion_tokens'),
        'completion_tokens',
        reasoning,
        'completion_tokens_details.reasoning_tokens',
      ),
      reasoning,
    };
  },
  // The same overlaps under the Responses API's names.
  'openai.responses': (u) => {
    const cacheRead = u.count('input_tokens_details', 'cached_tokens');
    const reasoning = u.count('output_tokens_details', 'reasoning_tokens');
    return {
      input: less(u.count('input_tokens'), 'input_tokens', cacheRead, 'input_tokens_details.cached_tokens'),
      cacheRead,
      cacheWrite: 0,
      output: less(u.count('output_tokens'), 'output_tokens', reasoning, 'output_tokens_details.reasoning_tokens'),
      reasoning,
    };
  },
  // Anthropic's input_tokens exclude cache reads and writes: four disjoint counts; thinking is output.
  anthropic: (u) => ({
    input: u.count('input_tokens'),
    cacheRead: u.count('cache_read_input_tokens'),
    cacheWrite: u.count('cache_creation_input_tokens'),
    output: u.count('output_tokens'),
    reasoning: 0,
  }),
  // cachedContentTokenCount is part of promptTokenCount; tool-use prompts and thoughts are apart.
  gemini: (u) => {
    const cacheRead = u.count('cachedContentTokenCount');
    const prompt = less(u.count('promptTokenCount'), 'promptTokenCount', cacheRead, 'cachedContentTokenCount');
    return {
      input: prompt + u.count('toolUsePromptTokenCount'),
      cacheRead,
      cacheWrite: 0,
      output: u.count('candidatesTokenCount'),
      reasoning: u.count('thoughtsTokenCount'),
    };
  },
};

/** The token kinds of a providerUsage, or what is wrong with it (the one check of its shape and counts). */
export function mapProviderUsage(value: unknown): { kinds: TokenKinds; total: number } | { problem: string } {
  if (!isObject(value)) return { problem: 'providerUsage must be an object {format, usage}' };
  const { format, usage } = value;
  for (const key of Object.keys(value))
    if (key !== 'format' && key !== 'usage' && key !== 'serviceTier')
      return { problem: `providerUsage.${key} is not a field (format, usage, serviceTier)` };
  if (value.serviceTier !== undefined && tierProblem(value.serviceTier) !== null)
    return { problem: `providerUsage.${tierProblem(value.serviceTier)}` };
  if (typeof format !== 'string' || !Object.hasOwn(MAPPINGS, format))
    return { problem: `providerUsage.format must be one of: ${PROVIDER_USAGE_FORMATS.join(', ')}` };
  if (!isObject(usage)) return { problem: 'providerUsage.usage must be the provider’s usage object' };
  if (Buffer.byteLength(JSON.stringify(value), 'utf8') > PROVIDER_USAGE_MAX_BYTES)
    return { problem: `providerUsage must be at most ${PROVIDER_USAGE_MAX_BYTES} bytes as JSON` };
  try {
    const read = counts(usage);
    const kinds = MAPPINGS[format as ProviderUsageFormat](read);
    // An object without any count this format reads is not the provider's usage (a wrong format, a
    // wrapper, a typo): billing it as 0 tokens would let any such record through for free.
    if (!read.found()) return { problem: `providerUsage.usage has none of the ${format} format's token counts` };
    const total = sumOf((kind) => kinds[kind]);
    if (total > MAX_TOKENS) return { problem: `The token counts of all kinds together must not exceed ${MAX_TOKENS}` };
    return { kinds, total };
  } catch (error) {
    if (error instanceof UsageProblem) return { problem: `providerUsage (${format}): ${error.message}` };
    throw error;
  }
}

/**
 * The counts a metering request bills: its providerUsage mapped (never beside the route's single
 * count or the counts per kind), else the one token-split rule (tokenCounts); none (0 tokens) when
 * only units are given.
 */
export function meteredCounts(
  single: number | undefined,
  fields: TokenKindFields & { providerUsage?: unknown; units?: unknown },
  field: string,
): TokenCounts {
  // Units may stand without tokens: no token then.
  if (fields.providerUsage === undefined && single === undefined && !hasKinds(fields) && fields.units !== undefined)
    return tokenCounts(0, {}, field);
  if (fields.providerUsage === undefined) return tokenCounts(single, fields, field);
  if (single !== undefined || hasKinds(fields))
    throw new DomainError(
      'VALIDATION',
      `Give either providerUsage or ${field} / the counts per kind (inputTokens, …), not both`,
    );
  const mapped = mapProviderUsage(fields.providerUsage);
  if ('problem' in mapped) throw new DomainError('VALIDATION', mapped.problem);
  return { kinds: mapped.kinds, total: mapped.total, split: mapped.kinds };
}

/**
 * The service tier and units a provider's usage object reports beside its tokens: for `anthropic`,
 * `service_tier` (when the providerUsage names none) and `server_tool_use.web_search_requests` as the
 * unit `web_search_call`. Call it on a providerUsage that mapProviderUsage accepted.
 */
export function providerDimensions(providerUsage: ProviderUsage): Dimensions {
  let serviceTier = providerUsage.serviceTier ?? null;
  let units: Units | null = null;
  if (providerUsage.format === 'anthropic') {
    const usage = providerUsage.usage;
    const tier = usage.service_tier;
    if (serviceTier === null && typeof tier === 'string' && tierProblem(tier) === null) serviceTier = tier;
    const tools = usage.server_tool_use;
    const searches = isObject(tools) ? tools.web_search_requests : undefined;
    if (Number.isSafeInteger(searches) && (searches as number) > 0) units = { web_search_call: searches as number };
  }
  return { serviceTier, units };
}

/**
 * The service tier and units a metering request names: its own `serviceTier` and `units`, and those
 * its providerUsage reports (units added up; two different tiers → 400).
 */
export function meteredDimensions(fields: {
  serviceTier?: string;
  units?: Units;
  providerUsage?: unknown;
}): Dimensions {
  const own = { serviceTier: fields.serviceTier ?? null, units: unitsOrNull(fields.units) };
  if (fields.providerUsage === undefined) return own;
  const reported = providerDimensions(fields.providerUsage as ProviderUsage);
  if (own.serviceTier !== null && reported.serviceTier !== null && own.serviceTier !== reported.serviceTier)
    throw new DomainError(
      'VALIDATION',
      `serviceTier (${own.serviceTier}) and the provider usage's tier (${reported.serviceTier}) differ`,
    );
  return { serviceTier: own.serviceTier ?? reported.serviceTier, units: addUnits(own.units, reported.units) };
}
