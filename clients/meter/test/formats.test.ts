import { describe, expect, it } from 'vitest';

import { aiSdkParts, READERS, type Reading } from '../src/formats.js';
import { RECORDINGS } from './recordings.js';

/** Reads parsed chunks as a reader sees them, each frozen (a reader that changed one would throw). */
function readAll(format: keyof typeof READERS, chunks: unknown[]): Reading {
  const reading: Reading = { outputChunks: 0 };
  for (const chunk of chunks) READERS[format](deepFreeze(chunk), reading);
  return reading;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

const parsed = (format: keyof typeof RECORDINGS) =>
  RECORDINGS[format].events.filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data) as unknown);

describe('what the kit reads from each stream (and nothing else)', () => {
  it.each(Object.keys(RECORDINGS) as (keyof typeof RECORDINGS)[])(
    '%s: the recording ends completed, with its usage object as sent',
    (format) => {
      const reading = readAll(format, parsed(format));
      expect(reading.end).toBe('completed');
      expect(reading.usage).toEqual(RECORDINGS[format].usage);
      expect(reading.outputChunks).toBeGreaterThan(1);
    },
  );

  it('openai.chat: finish_reason "length" is max_tokens; no usage without include_usage', () => {
    const chunks = [
      { choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }], usage: null },
      { choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }], usage: null },
      { choices: [{ index: 0, delta: {}, finish_reason: 'length' }], usage: null },
    ];
    expect(readAll('openai.chat', chunks)).toEqual({ outputChunks: 1, end: 'max_tokens' });
  });

  it('openai.responses: response.incomplete at max_output_tokens is max_tokens, with its usage', () => {
    const usage = { input_tokens: 10, output_tokens: 16, output_tokens_details: { reasoning_tokens: 0 } };
    const reading = readAll('openai.responses', [
      { type: 'response.output_text.delta', delta: 'Hi' },
      { type: 'response.output_text.delta', delta: '' },
      {
        type: 'response.incomplete',
        response: { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, usage },
      },
    ]);
    expect(reading).toEqual({ outputChunks: 1, end: 'max_tokens', usage });
  });

  it('openai.responses: response.failed is an upstream error', () => {
    expect(readAll('openai.responses', [{ type: 'response.failed', response: { usage: null } }]).end).toBe(
      'upstream_error',
    );
  });

  it('anthropic: message_delta counts replace the held ones (cumulative), never add; nulls keep them', () => {
    const reading = readAll('anthropic', [
      {
        type: 'message_start',
        message: { usage: { input_tokens: 25, cache_read_input_tokens: 100, output_tokens: 1 } },
      },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } },
      {
        type: 'message_delta',
        delta: { stop_reason: null },
        usage: { output_tokens: 10, cache_read_input_tokens: null },
      },
      {
        type: 'message_delta',
        delta: { stop_reason: 'max_tokens', stop_sequence: null },
        usage: { output_tokens: 15 },
      },
    ]);
    expect(reading.usage).toEqual({ input_tokens: 25, cache_read_input_tokens: 100, output_tokens: 15 });
    expect(reading.end).toBeUndefined(); // not before message_stop
    READERS.anthropic({ type: 'message_stop' }, reading);
    expect(reading.end).toBe('max_tokens');
  });

  it('gemini: the last usageMetadata wins; finishReason MAX_TOKENS is max_tokens', () => {
    const reading = readAll('gemini', [
      { candidates: [{ content: { parts: [{ text: 'a' }] } }], usageMetadata: { promptTokenCount: 5 } },
      {
        candidates: [{ content: { parts: [{ text: 'b' }] }, finishReason: 'MAX_TOKENS' }],
        usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 8 },
      },
    ]);
    expect(reading).toEqual({
      outputChunks: 2,
      end: 'max_tokens',
      usage: { promptTokenCount: 5, candidatesTokenCount: 8 },
    });
  });

  it('AI SDK parts: the finish part’s usage.raw; "length" is max_tokens; an error part is an upstream error', () => {
    const raw = { prompt_tokens: 3, completion_tokens: 2 };
    const parts = [
      { type: 'text-delta', id: '0', delta: 'Hi' },
      { type: 'text-delta', id: '0', delta: '' },
      { type: 'finish', usage: { raw }, finishReason: { unified: 'length', raw: 'length' } },
    ];
    const reading: Reading = { outputChunks: 0 };
    for (const part of parts) aiSdkParts(deepFreeze(part), reading);
    expect(reading).toEqual({ outputChunks: 1, end: 'max_tokens', usage: raw });

    const failed: Reading = { outputChunks: 0 };
    aiSdkParts({ type: 'error', error: new Error('overloaded') }, failed);
    aiSdkParts({ type: 'finish', usage: {}, finishReason: { unified: 'error' } }, failed);
    expect(failed.end).toBe('upstream_error');
  });
});
