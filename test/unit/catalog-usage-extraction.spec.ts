import { extractUsage, findProvider } from '@pydantic/genai-prices';
import { describe, expect, it } from 'vitest';

import { RECORDINGS } from '../../clients/meter/test/recordings.js';
import { mapProviderUsage, type ProviderUsageFormat } from '../../src/pricing/provider-usage.js';

/**
 * The price catalogue package has a usage extraction of its own (`extractUsage`: a provider's answer
 * → its counts). The service keeps its own reading of `providerUsage` (src/pricing/provider-usage.ts,
 * docs/provider-usage.md): here both read the recorded provider samples (the client kit's, every token
 * kind non-zero where the format has it, and a few more shapes) and must agree on every count they
 * both know. The catalogue counts input with its cache reads and writes, and output with its
 * reasoning; the service keeps those apart (a rule prices each kind), so the sums are compared.
 */
const FLAVOURS: Record<ProviderUsageFormat, { provider: string; flavor?: string; root: string }> = {
  'openai.chat': { provider: 'openai', flavor: 'chat', root: 'usage' },
  'openai.responses': { provider: 'openai', flavor: 'responses', root: 'usage' },
  anthropic: { provider: 'anthropic', root: 'usage' },
  gemini: { provider: 'google', root: 'usageMetadata' },
};

const MORE_SAMPLES: [ProviderUsageFormat, Record<string, unknown>][] = [
  ['openai.chat', { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 }],
  [
    'anthropic',
    {
      input_tokens: 3,
      cache_creation_input_tokens: 2048,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 1024, ephemeral_1h_input_tokens: 1024 },
      output_tokens: 90,
    },
  ],
  ['gemini', { promptTokenCount: 400, candidatesTokenCount: 50, toolUsePromptTokenCount: 25, thoughtsTokenCount: 80 }],
];

const SAMPLES: [ProviderUsageFormat, Record<string, unknown>][] = [
  ...Object.entries(RECORDINGS).map(([format, r]): [ProviderUsageFormat, Record<string, unknown>] => [
    format as ProviderUsageFormat,
    r.usage,
  ]),
  ...MORE_SAMPLES,
];

describe('the catalogue’s usage extraction beside the service’s reading of providerUsage', () => {
  it.each(SAMPLES)('%s: both read the same counts', (format, usage) => {
    const mapped = mapProviderUsage({ format, usage });
    if ('problem' in mapped) throw new Error(mapped.problem);
    const ours = mapped.kinds;
    const { provider, flavor, root } = FLAVOURS[format];
    const theirs = extractUsage(findProvider({ providerId: provider })!, { model: 'm', [root]: usage }, flavor).usage;

    expect({
      input: ours.input + ours.cacheRead + ours.cacheWrite,
      cacheRead: ours.cacheRead,
      cacheWrite: ours.cacheWrite,
      output: ours.output + ours.reasoning,
      reasoning: ours.reasoning,
    }).toEqual({
      input: theirs.input_tokens ?? 0,
      cacheRead: theirs.cache_read_tokens ?? 0,
      cacheWrite: theirs.cache_write_tokens ?? 0,
      output: theirs.output_tokens ?? 0,
      // Anthropic reports thinking inside output_tokens only: neither reading counts it apart.
      reasoning: theirs.output_reasoning_tokens ?? 0,
    });
    // Nothing is lost: the service's kinds add up to the catalogue's input and output.
    expect(mapped.total).toBe((theirs.input_tokens ?? 0) + (theirs.output_tokens ?? 0));
  });

  it('the service refuses what the catalogue would read as zero tokens', () => {
    // A wrapper or a typo: the catalogue's extraction throws or reads nothing; the service says why.
    const mapped = mapProviderUsage({ format: 'anthropic', usage: { inputTokens: 10, outputTokens: 5 } });
    expect(mapped).toEqual({ problem: expect.stringMatching(/none of the anthropic format.s token counts/) });
    expect(() => extractUsage(findProvider({ providerId: 'anthropic' })!, { usage: { inputTokens: 10 } })).toThrow();
  });
});
