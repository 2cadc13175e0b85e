import { describe, expect, it } from 'vitest';

import { GATEWAY_ROUTES } from './routes.js';
import { readAnswer, StreamReader } from './usage-reader.js';

const route = (path: string) => GATEWAY_ROUTES.find((r) => r.path === path)!;

describe('reading usage from provider answers', () => {
  it('keeps the last OpenAI usage chunk and tells it apart from content chunks', () => {
    const reader = new StreamReader(route('/chat/completions'));
    expect(reader.see(JSON.stringify({ choices: [{ delta: { content: 'hé' } }], usage: null })).usageChunk).toBe(false);
    expect(reader.see(JSON.stringify({ choices: [], usage: { prompt_tokens: 3 } })).usageChunk).toBe(true);
    expect(reader.see('[DONE]').usageChunk).toBe(false);
    expect(reader).toMatchObject({ usage: { prompt_tokens: 3 }, outputBytes: 3, ended: true });
  });

  it('overlays Anthropic’s message_delta usage on message_start’s, never adding them', () => {
    const reader = new StreamReader(route('/messages'));
    reader.see(JSON.stringify({ type: 'message_start', message: { usage: { input_tokens: 50, output_tokens: 1 } } }));
    reader.see(
      JSON.stringify({
        type: 'message_delta',
        delta: { stop_reason: 'max_tokens' },
        usage: { output_tokens: 300, input_tokens: null },
      }),
    );
    reader.see(JSON.stringify({ type: 'message_stop' }));
    expect(reader).toMatchObject({
      usage: { input_tokens: 50, output_tokens: 300 },
      termination: 'max_tokens',
      ended: true,
    });
  });

  it('reads the Responses API’s usage from response.incomplete, cut at max_output_tokens', () => {
    const reader = new StreamReader(route('/responses'));
    reader.see(JSON.stringify({ type: 'response.output_text.delta', delta: 'abc' }));
    reader.see(
      JSON.stringify({
        type: 'response.incomplete',
        response: { usage: { input_tokens: 9 }, incomplete_details: { reason: 'max_output_tokens' } },
      }),
    );
    expect(reader).toMatchObject({
      usage: { input_tokens: 9 },
      termination: 'max_tokens',
      outputBytes: 3,
      ended: true,
    });
  });

  it('reads a whole answer’s usage, tier and truncation', () => {
    expect(
      readAnswer(route('/chat/completions'), {
        choices: [{ finish_reason: 'length' }],
        usage: { prompt_tokens: 1 },
        service_tier: 'flex',
      }),
    ).toEqual({ usage: { prompt_tokens: 1 }, serviceTier: 'flex', termination: 'max_tokens', webSearches: 0 });
    expect(readAnswer(route('/messages'), 'not an object')).toEqual({
      usage: null,
      serviceTier: null,
      termination: 'completed',
      webSearches: 0,
    });
    const searched = { output: [{ type: 'web_search_call' }, { type: 'web_search_call' }, { type: 'message' }] };
    expect(readAnswer(route('/responses'), { ...searched, usage: { input_tokens: 1 } }).webSearches).toBe(2);
  });

  it('takes message_start’s usage as input only: its output_tokens is never the answer’s', () => {
    const reader = new StreamReader(route('/messages'));
    reader.see(JSON.stringify({ type: 'message_start', message: { usage: { input_tokens: 50, output_tokens: 1 } } }));
    reader.see(
      JSON.stringify({ type: 'content_block_start', content_block: { type: 'server_tool_use', name: 'web_search' } }),
    );
    reader.see(JSON.stringify({ type: 'content_block_delta', delta: { type: 'text_delta', text: 'abcdef' } }));
    expect(reader).toMatchObject({ usage: null, startUsage: { input_tokens: 50 }, outputBytes: 6, webSearches: 1 });
    expect(reader.startUsage).not.toHaveProperty('output_tokens');
  });

  it('counts the Responses API’s web searches as they start', () => {
    const reader = new StreamReader(route('/responses'));
    reader.see(JSON.stringify({ type: 'response.output_item.added', item: { type: 'web_search_call' } }));
    reader.see(JSON.stringify({ type: 'response.output_item.added', item: { type: 'message' } }));
    expect(reader.webSearches).toBe(1);
  });
});
