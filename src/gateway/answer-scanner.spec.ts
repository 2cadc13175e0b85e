import { describe, expect, it } from 'vitest';

import { AnswerScanner } from './answer-scanner.js';

/** Scans `text` cut into pieces of `size` bytes. */
function scan(text: string, size: number): Record<string, unknown> | null {
  const scanner = new AnswerScanner();
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) scanner.feed(bytes.subarray(i, i + size));
  return scanner.answer();
}

const chat = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'a "quoted" {brace} [x] ünïcødé \\ end' },
      finish_reason: 'stop',
    },
    { index: 1, message: { role: 'assistant', content: 'cut', usage: { fake: 1 } }, finish_reason: 'length' },
  ],
  usage: { prompt_tokens: 12, completion_tokens: 34, prompt_tokens_details: { cached_tokens: 5 } },
  service_tier: 'default',
};

describe('AnswerScanner', () => {
  it('keeps the top-level usage, tier and each choice finish_reason, however the answer is cut', () => {
    const text = JSON.stringify(chat, null, 1);
    for (const size of [1, 2, 3, 7, 64, text.length])
      expect(scan(text, size)).toEqual({
        usage: chat.usage,
        service_tier: 'default',
        choices: [{ finish_reason: 'stop' }, { finish_reason: 'length' }],
      });
  });

  it('reads Anthropic and Responses fields, a number last in the answer included', () => {
    const message = {
      content: [{ type: 'text', text: 'x' }],
      stop_reason: 'max_tokens',
      usage: { input_tokens: 3, output_tokens: 4 },
    };
    expect(scan(JSON.stringify(message), 5)).toEqual({ stop_reason: 'max_tokens', usage: message.usage });
    expect(scan('{"incomplete_details":{"reason":"max_output_tokens"},"usage":7}', 4)).toEqual({
      incomplete_details: { reason: 'max_output_tokens' },
      usage: 7,
    });
  });

  it('is null for what is not a JSON object, and drops a kept value beyond its bound', () => {
    expect(scan('[1,2]', 2)).toBeNull();
    expect(scan('not json', 2)).toBeNull();
    const huge = JSON.stringify({ usage: { pad: 'x'.repeat(70_000) }, service_tier: 'flex' });
    expect(scan(huge, 1000)).toEqual({ service_tier: 'flex' });
  });
});
