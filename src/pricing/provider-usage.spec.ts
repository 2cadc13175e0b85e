import { describe, expect, it } from 'vitest';

import { calculateCredits, type RulePrices } from './pricing-math.js';
import { mapProviderUsage, meteredCounts, PROVIDER_USAGE_FORMATS } from './provider-usage.js';

/**
 * The mapping of each provider's usage object to the token kinds (docs/provider-usage.md "The mapping"), on
 * usage objects as the providers published them. Where each comes from:
 *
 * - OPENAI_CHAT_CACHED: OpenAI's prompt caching guide (platform.openai.com/docs/guides/prompt-caching),
 *   its example `usage` of a Chat Completion whose prompt was mostly cached (quoted verbatim as
 *   "OpenAI prompt caching … Example" in BerriAI/litellm's prompt-caching test).
 * - OPENAI_CHAT_IMAGE: the OpenAI API reference, POST /chat/completions, example "Image input"
 *   (openai/openai-node api_reference/openapi.transformed.yml, commit 7b7d6ca7).
 * - OPENAI_RESPONSES_REASONING: the OpenAI API reference, POST /responses, the reasoning example
 *   (`reasoning.effort: high`; openai/openai-node api_reference/openapi.transformed.yml, commit 7b7d6ca7).
 * - OPENAI_RESPONSES_BATCH: the OpenAI API reference, the Batch object's example `usage` (Responses
 *   usage fields; same file).
 * - ANTHROPIC_STREAM_FINAL: the usage of a streamed Message after its message_delta
 *   (anthropics/anthropic-sdk-typescript tests/api-resources/MessageStream.test.ts, "applies every
 *   message_delta field onto the accumulated message", commit bfa9197f).
 * - ANTHROPIC_MESSAGE_START: the usage of the same stream's message_start event (same test).
 * - GEMINI_CACHED: a recorded Gemini API answer (googleapis/js-genai test/system/recordings/
 *   Client_Tests_generateContent_ML_Dev_should_generate_content_with_given_valid_json_schema_in_responseSchema.json,
 *   commit 6e9b35c4).
 * - GEMINI_TOOL_USE: a recorded Gemini API answer with server-side MCP tools (googleapis/js-genai
 *   test/system/recordings/Chats_Tests_sendMessage_multiple_messages_with_server_side_MCP_tools.json, second turn).
 */
const OPENAI_CHAT_CACHED = {
  prompt_tokens: 2006,
  completion_tokens: 300,
  total_tokens: 2306,
  prompt_tokens_details: { cached_tokens: 1920 },
  completion_tokens_details: { reasoning_tokens: 0 },
};
const OPENAI_CHAT_IMAGE = {
  prompt_tokens: 1117,
  completion_tokens: 46,
  total_tokens: 1163,
  prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
  completion_tokens_details: {
    reasoning_tokens: 0,
    audio_tokens: 0,
    accepted_prediction_tokens: 0,
    rejected_prediction_tokens: 0,
  },
};
const OPENAI_RESPONSES_REASONING = {
  input_tokens: 81,
  input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
  output_tokens: 1035,
  output_tokens_details: { reasoning_tokens: 832 },
  total_tokens: 1116,
};
const OPENAI_RESPONSES_BATCH = {
  input_tokens: 1500,
  input_tokens_details: { cached_tokens: 1024 },
  output_tokens: 500,
  output_tokens_details: { reasoning_tokens: 300 },
  total_tokens: 2000,
};
const ANTHROPIC_STREAM_FINAL = {
  input_tokens: 42,
  output_tokens: 99,
  cache_creation_input_tokens: 7,
  cache_read_input_tokens: 8,
  server_tool_use: { web_search_requests: 1, web_fetch_requests: 2 },
  output_tokens_details: { thinking_tokens: 30 },
  cache_creation: { ephemeral_5m_input_tokens: 2, ephemeral_1h_input_tokens: 0 },
  service_tier: 'standard',
};
const ANTHROPIC_MESSAGE_START = {
  input_tokens: 10,
  output_tokens: 1,
  cache_creation_input_tokens: 2,
  cache_read_input_tokens: 3,
  cache_creation: { ephemeral_5m_input_tokens: 2, ephemeral_1h_input_tokens: 0 },
  service_tier: 'standard',
};
const GEMINI_CACHED = {
  cacheTokensDetails: [{ modality: 'TEXT', tokenCount: 3 }],
  cachedContentTokenCount: 3,
  candidatesTokenCount: 238,
  promptTokenCount: 5,
  promptTokensDetails: [{ modality: 'TEXT', tokenCount: 5 }],
  thoughtsTokenCount: 41,
  totalTokenCount: 284,
};
const GEMINI_TOOL_USE = {
  candidatesTokenCount: 433,
  promptTokenCount: 1832,
  promptTokensDetails: [{ modality: 'TEXT', tokenCount: 1832 }],
  thoughtsTokenCount: 194,
  toolUsePromptTokenCount: 2026,
  toolUsePromptTokensDetails: [{ modality: 'TEXT', tokenCount: 2026 }],
  totalTokenCount: 4485,
};

const kinds = (format: string, usage: unknown) => {
  const mapped = mapProviderUsage({ format, usage });
  if ('problem' in mapped) throw new Error(mapped.problem);
  return mapped.kinds;
};
const problem = (value: unknown) => {
  const mapped = mapProviderUsage(value);
  return 'problem' in mapped ? mapped.problem : null;
};

describe('provider usage → token kinds', () => {
  /** The token kinds in the order input, cache reads, cache writes, output, reasoning. */
  const tokens = (input: number, cacheRead: number, cacheWrite: number, output: number, reasoning: number) => ({
    input,
    cacheRead,
    cacheWrite,
    output,
    reasoning,
  });

  it.each([
    ['openai.chat: cached tokens out of the prompt', 'openai.chat', OPENAI_CHAT_CACHED, tokens(86, 1920, 0, 300, 0)],
    ['openai.chat: an image prompt, nothing cached', 'openai.chat', OPENAI_CHAT_IMAGE, tokens(1117, 0, 0, 46, 0)],
    [
      'openai.responses: reasoning tokens out of the output',
      'openai.responses',
      OPENAI_RESPONSES_REASONING,
      tokens(81, 0, 0, 203, 832),
    ],
    [
      'openai.responses: cached and reasoning tokens under the Responses names',
      'openai.responses',
      OPENAI_RESPONSES_BATCH,
      tokens(476, 1024, 0, 200, 300),
    ],
    [
      'anthropic: input, cache reads, cache writes and output are four disjoint counts; extras ignored',
      'anthropic',
      ANTHROPIC_STREAM_FINAL,
      tokens(42, 8, 7, 99, 0),
    ],
    ['anthropic: the counts of message_start', 'anthropic', ANTHROPIC_MESSAGE_START, tokens(10, 3, 2, 1, 0)],
    [
      'gemini: cached content out of the prompt, thoughts apart from candidates',
      'gemini',
      GEMINI_CACHED,
      tokens(2, 3, 0, 238, 41),
    ],
    ['gemini: tool-use prompts added to the input', 'gemini', GEMINI_TOOL_USE, tokens(3858, 0, 0, 433, 194)],
  ])('%s', (_case, format, usage, expected) => {
    expect(kinds(format, usage)).toEqual(expected);
  });

  it('every published object maps to kinds that add up to the provider’s own total (nothing counted twice)', () => {
    const sum = (k: Record<string, number>) => Object.values(k).reduce((a, b) => a + b, 0);
    expect(sum(kinds('openai.chat', OPENAI_CHAT_CACHED))).toBe(OPENAI_CHAT_CACHED.total_tokens);
    expect(sum(kinds('openai.chat', OPENAI_CHAT_IMAGE))).toBe(OPENAI_CHAT_IMAGE.total_tokens);
    expect(sum(kinds('openai.responses', OPENAI_RESPONSES_REASONING))).toBe(OPENAI_RESPONSES_REASONING.total_tokens);
    expect(sum(kinds('openai.responses', OPENAI_RESPONSES_BATCH))).toBe(OPENAI_RESPONSES_BATCH.total_tokens);
    expect(sum(kinds('gemini', GEMINI_CACHED))).toBe(GEMINI_CACHED.totalTokenCount);
    expect(sum(kinds('gemini', GEMINI_TOOL_USE))).toBe(GEMINI_TOOL_USE.totalTokenCount);
  });

  it('prices each kind at its price: ceil(Σ kind × price / 1000), one rounding', () => {
    // input 3, output 15, cache read 0.3, cache write 3.75, reasoning 15 per 1k.
    const prices: RulePrices = {
      input: '3.0000',
      output: '15.0000',
      cacheRead: '0.3000',
      cacheWrite: '3.7500',
      reasoning: '15.0000',
      longContext: null,
    };
    // (86 × 3 + 1920 × 0.3 + 300 × 15) / 1000 = (258 + 576 + 4500) / 1000 = 5.334 → 6
    expect(calculateCredits(kinds('openai.chat', OPENAI_CHAT_CACHED), prices)).toBe(6n);
    // (42 × 3 + 8 × 0.3 + 7 × 3.75 + 99 × 15) / 1000 = (126 + 2.4 + 26.25 + 1485) / 1000 = 1.63965 → 2
    expect(calculateCredits(kinds('anthropic', ANTHROPIC_STREAM_FINAL), prices)).toBe(2n);
  });

  it('a count the format names but the object lacks (or has as null) counts 0', () => {
    expect(kinds('openai.chat', { prompt_tokens: 19, completion_tokens: 10, total_tokens: 29 })).toEqual({
      input: 19,
      cacheRead: 0,
      cacheWrite: 0,
      output: 10,
      reasoning: 0,
    });
    expect(
      kinds('openai.chat', { prompt_tokens: 5, prompt_tokens_details: null, completion_tokens_details: null }),
    ).toEqual({ input: 5, cacheRead: 0, cacheWrite: 0, output: 0, reasoning: 0 });
    // The SDK types Anthropic's cache counts as number | null.
    expect(kinds('anthropic', { input_tokens: 3, cache_read_input_tokens: null, output_tokens: 2 })).toEqual({
      input: 3,
      cacheRead: 0,
      cacheWrite: 0,
      output: 2,
      reasoning: 0,
    });
    expect(kinds('gemini', { candidatesTokenCount: 0 })).toEqual({
      input: 0,
      cacheRead: 0,
      cacheWrite: 0,
      output: 0,
      reasoning: 0,
    });
  });

  it('refuses a usage object with none of its format’s counts (it billed 0)', () => {
    for (const [format, usage] of [
      ['gemini', {}],
      ['anthropic', { prompt_tokens: 10, completion_tokens: 5 }],
      ['openai.chat', { input_tokens: 10, output_tokens: 5 }],
      ['openai.responses', { total_tokens: 15, input_tokens_details: null }],
    ] as const) {
      expect(problem({ format, usage }), format).toMatch(/has none of the .* format's token counts/);
    }
  });

  it('refuses negative, fractional and non-numeric counts, and a part larger than its total', () => {
    expect(problem({ format: 'anthropic', usage: { input_tokens: -1 } })).toMatch(
      /usage.input_tokens must be an integer/,
    );
    expect(problem({ format: 'gemini', usage: { promptTokenCount: 1.5 } })).toMatch(
      /promptTokenCount must be an integer/,
    );
    expect(problem({ format: 'openai.chat', usage: { prompt_tokens: '12' } })).toMatch(/prompt_tokens must be/);
    expect(problem({ format: 'anthropic', usage: { output_tokens: 2_147_483_648 } })).toMatch(/must be an integer/);
    expect(
      problem({ format: 'openai.chat', usage: { prompt_tokens: 10, prompt_tokens_details: { cached_tokens: 11 } } }),
    ).toMatch(/cached_tokens \(11\) must not exceed usage.prompt_tokens \(10\)/);
    expect(
      problem({
        format: 'openai.responses',
        usage: { output_tokens: 5, output_tokens_details: { reasoning_tokens: 6 } },
      }),
    ).toMatch(/reasoning_tokens \(6\) must not exceed usage.output_tokens/);
    expect(problem({ format: 'gemini', usage: { promptTokenCount: 2, cachedContentTokenCount: 3 } })).toMatch(
      /cachedContentTokenCount \(3\) must not exceed/,
    );
    expect(problem({ format: 'openai.chat', usage: { prompt_tokens_details: 5 } })).toMatch(
      /usage.prompt_tokens_details must be an object/,
    );
    // Each kind fits, the sum does not.
    expect(
      problem({ format: 'anthropic', usage: { input_tokens: 2_000_000_000, output_tokens: 2_000_000_000 } }),
    ).toMatch(/must not exceed 2147483647/);
  });

  it('refuses an unknown format, a wrapper that is not {format, usage}, and more than 4,096 bytes', () => {
    expect(problem({ format: 'mistral', usage: {} })).toMatch(/format must be one of: openai.chat/);
    expect(problem({ format: 'anthropic' })).toMatch(/usage must be/);
    expect(problem({ format: 'anthropic', usage: [] })).toMatch(/usage must be/);
    expect(problem('anthropic')).toMatch(/must be an object/);
    expect(problem({ format: 'anthropic', usage: {}, model: 'x' })).toMatch(/providerUsage.model is not a field/);
    const padded = { format: 'anthropic', usage: { input_tokens: 1, note: 'x'.repeat(4096 - 60) } };
    expect(Buffer.byteLength(JSON.stringify(padded))).toBeLessThanOrEqual(4096);
    expect(problem(padded)).toBeNull();
    const big = { format: 'anthropic', usage: { input_tokens: 1, note: 'x'.repeat(4096) } };
    expect(problem(big)).toMatch(/at most 4096 bytes/);
    expect(PROVIDER_USAGE_FORMATS).toEqual(['openai.chat', 'openai.responses', 'anthropic', 'gemini']);
  });

  it('is never given beside the route’s single count or the counts per kind', () => {
    const providerUsage = { format: 'anthropic', usage: ANTHROPIC_STREAM_FINAL };
    expect(meteredCounts(undefined, { providerUsage }, 'actualTokens')).toEqual({
      kinds: { input: 42, cacheRead: 8, cacheWrite: 7, output: 99, reasoning: 0 },
      total: 156,
      split: { input: 42, cacheRead: 8, cacheWrite: 7, output: 99, reasoning: 0 },
    });
    expect(() => meteredCounts(10, { providerUsage }, 'actualTokens')).toThrow(/either providerUsage or actualTokens/);
    expect(() => meteredCounts(undefined, { providerUsage, outputTokens: 1 }, 'tokens')).toThrow(/not both/);
    expect(() => meteredCounts(undefined, { providerUsage: { format: 'x', usage: {} } }, 'tokens')).toThrow(/format/);
    // Without providerUsage: the token-split rule as before.
    expect(meteredCounts(1500, {}, 'tokens').total).toBe(1500);
  });
});
