import { applyDecorators } from '@nestjs/common';
import { ValidateBy } from 'class-validator';

import { MAX_TOKENS } from '../../common/validation/amounts.js';
import { ApiIntegerOptional } from '../../common/validation/integers.js';

/**
 * An optional token count of one kind: absent, or an integer 0 … MAX_TOKENS (null is refused). One
 * validator rather than IsOptional + IsInt + Min + Max: every metering request carries these fields'
 * metadata, mostly absent, and class-validator's cost grows with the number of validators a class has.
 */
export function TokenCount(example: number, description: string): PropertyDecorator {
  return applyDecorators(
    ApiIntegerOptional({ example, minimum: 0, maximum: MAX_TOKENS, description }),
    ValidateBy({
      name: 'tokenCount',
      validator: {
        validate: (value: unknown) =>
          value === undefined || (Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_TOKENS),
        defaultMessage: (args) => `${args?.property} must be an integer from 0 to ${MAX_TOKENS}`,
      },
    }),
  );
}

/** The descriptions of the kinds beyond input and output, the same on every route that takes them. */
export const KIND_DOCS = {
  cacheRead:
    'Prompt tokens read from the provider’s cache (Anthropic `cache_read_input_tokens`, OpenAI cached tokens), at cacheReadPricePer1kTokens',
  cacheWrite:
    'Prompt tokens written to the provider’s cache (Anthropic `cache_creation_input_tokens`), at cacheWritePricePer1kTokens',
  reasoning:
    'Reasoning tokens, billed apart from outputTokens (send them apart when the provider counts them inside its output), at reasoningPricePer1kTokens',
};

/** The token counts of three typical provider calls, for the Swagger examples of every route that takes them. */
const KIND_CALLS = {
  cachedAnthropic: {
    summary: 'A cached Anthropic call: 1,000 new input tokens, 20,000 read from the prompt cache, 500 output',
    modelId: 'anthropic.claude-sonnet-4-5',
    tokens: { inputTokens: 1000, cacheReadTokens: 20000, cacheWriteTokens: 0, outputTokens: 500 },
  },
  openAiReasoning: {
    summary: 'An OpenAI reasoning call: cached prompt tokens and reasoning tokens sent apart from the output',
    modelId: 'openai.o4-mini',
    tokens: { inputTokens: 1200, cacheReadTokens: 3000, outputTokens: 400, reasoningTokens: 2500 },
  },
  longContext: {
    summary: 'A long-context call: a 250,000-token prompt, priced at the rule’s long-context tier',
    modelId: 'google.gemini-2.5-pro',
    tokens: { inputTokens: 250000, outputTokens: 2000 },
  },
};

/** Swagger examples of the three calls, each body built by `body` from the model and its token counts. */
export function kindExamples(
  body: (modelId: string, tokens: Record<string, number>) => Record<string, unknown>,
): Record<string, { summary: string; value: Record<string, unknown> }> {
  return Object.fromEntries(
    Object.entries(KIND_CALLS).map(([name, call]) => [
      name,
      { summary: call.summary, value: body(call.modelId, call.tokens) },
    ]),
  );
}
