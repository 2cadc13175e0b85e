import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ValidateBy } from 'class-validator';

import {
  mapProviderUsage,
  PROVIDER_USAGE_FORMATS,
  PROVIDER_USAGE_MAX_BYTES,
  type ProviderUsage,
  type ProviderUsageFormat,
  TERMINATIONS,
} from '../provider-usage.js';

/** The schema of a providerUsage (checked as a whole by ProviderUsageField, never converted). */
export class ProviderUsageDto {
  @ApiProperty({ enum: PROVIDER_USAGE_FORMATS, example: 'anthropic', description: 'Whose usage object `usage` is' })
  format: ProviderUsageFormat;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { input_tokens: 42, cache_creation_input_tokens: 7, cache_read_input_tokens: 8, output_tokens: 99 },
    description:
      'The provider’s usage object as its API returned it (OpenAI `usage`, Anthropic `usage`, Gemini `usageMetadata`)',
  })
  usage: Record<string, unknown>;

  @ApiPropertyOptional({
    example: 'flex',
    description:
      'The service tier the provider served the call at (OpenAI’s `service_tier`); for `anthropic` the usage’s own ' +
      '`service_tier` counts when absent',
  })
  serviceTier?: string;
}

const PROVIDER_USAGE_DOC =
  'Instead of the token counts: the provider’s own usage object, mapped to the token kinds by the service ' +
  '(docs/provider-usage.md). `openai.chat`: cached_tokens are part of prompt_tokens and reasoning_tokens part of ' +
  'completion_tokens; `openai.responses`: the same under input/output names; `anthropic`: input_tokens, ' +
  'cache_read_input_tokens, cache_creation_input_tokens and output_tokens apart; `gemini`: cachedContentTokenCount ' +
  'part of promptTokenCount, toolUsePromptTokenCount added to the input, thoughtsTokenCount as reasoning. A count ' +
  'the format names but the object lacks counts 0; other fields are ignored; a negative or fractional count, or a ' +
  `part larger than its total → 400. At most ${PROVIDER_USAGE_MAX_BYTES} bytes as JSON.`;

/**
 * The optional `providerUsage` of a metering body: one validator for its shape, size and counts (the
 * same check the service maps it with), so a bad one is a 400 before anything is priced.
 */
export function ProviderUsageField(excludes: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ type: ProviderUsageDto, description: `${PROVIDER_USAGE_DOC} Not beside ${excludes}.` }),
    ValidateBy({
      name: 'providerUsage',
      validator: {
        validate: (value: unknown) => value === undefined || !('problem' in mapProviderUsage(value)),
        defaultMessage: (args) => {
          const mapped = mapProviderUsage(args?.value);
          return 'problem' in mapped ? mapped.problem : 'providerUsage is not valid';
        },
      },
    }),
  );
}

/** The optional `termination` of finalize and abort. */
export function TerminationField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      enum: TERMINATIONS,
      example: 'completed',
      description:
        'How the stream ended, kept on the session’s usage record: `completed`, `max_tokens` (cut at the output ' +
        'limit), `client_abort` (the consumer stopped it) or `upstream_error` (the provider failed). Default: none (null).',
    }),
    ValidateBy({
      name: 'termination',
      validator: {
        validate: (value: unknown) => value === undefined || (TERMINATIONS as readonly unknown[]).includes(value),
        defaultMessage: () => `termination must be one of: ${TERMINATIONS.join(', ')}`,
      },
    }),
  );
}

/**
 * One real usage object per format, for the Swagger examples of every route that takes providerUsage
 * (where each was published: src/pricing/provider-usage.spec.ts).
 */
const PROVIDER_CALLS: { name: string; summary: string; modelId: string; providerUsage: ProviderUsage }[] = [
  {
    name: 'openAiChatUsage',
    summary: 'OpenAI Chat Completions usage (1,920 of the 2,006 prompt tokens from the prompt cache)',
    modelId: 'openai.gpt-4o',
    providerUsage: {
      format: 'openai.chat',
      usage: {
        prompt_tokens: 2006,
        completion_tokens: 300,
        total_tokens: 2306,
        prompt_tokens_details: { cached_tokens: 1920 },
        completion_tokens_details: { reasoning_tokens: 0 },
      },
    },
  },
  {
    name: 'openAiResponsesUsage',
    summary: 'OpenAI Responses usage of a reasoning model (832 of the 1,035 output tokens are reasoning)',
    modelId: 'openai.o3',
    providerUsage: {
      format: 'openai.responses',
      usage: {
        input_tokens: 81,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 1035,
        output_tokens_details: { reasoning_tokens: 832 },
        total_tokens: 1116,
      },
    },
  },
  {
    name: 'anthropicUsage',
    summary: 'Anthropic Messages usage (input, cache reads and cache writes are apart)',
    modelId: 'anthropic.claude-opus-4',
    providerUsage: {
      format: 'anthropic',
      usage: {
        input_tokens: 42,
        output_tokens: 99,
        cache_creation_input_tokens: 7,
        cache_read_input_tokens: 8,
        server_tool_use: { web_search_requests: 0, web_fetch_requests: 2 },
      },
    },
  },
  {
    name: 'geminiUsage',
    summary: 'Gemini usageMetadata (3 of the 5 prompt tokens from cached content; 41 thought tokens)',
    modelId: 'google.gemini-2.5-flash',
    providerUsage: {
      format: 'gemini',
      usage: {
        cachedContentTokenCount: 3,
        candidatesTokenCount: 238,
        promptTokenCount: 5,
        promptTokensDetails: [{ modality: 'TEXT', tokenCount: 5 }],
        thoughtsTokenCount: 41,
        totalTokenCount: 284,
      },
    },
  },
];

/** Swagger examples of the four formats, each body built by `body` from the model and its providerUsage. */
export function providerUsageExamples(
  body: (modelId: string, providerUsage: ProviderUsage, name: string) => Record<string, unknown>,
): Record<string, { summary: string; value: Record<string, unknown> }> {
  return Object.fromEntries(
    PROVIDER_CALLS.map((call) => [
      call.name,
      { summary: call.summary, value: body(call.modelId, call.providerUsage, call.name) },
    ]),
  );
}
