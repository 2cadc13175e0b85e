import { describe, expect, it } from 'vitest';

import { AdmissionProblem, inputBound, outputBound, requestedTier } from './admission.js';
import { GATEWAY_ROUTES } from './routes.js';

const chat = GATEWAY_ROUTES.find((r) => r.path === '/chat/completions')!;
const embeddings = GATEWAY_ROUTES.find((r) => r.path === '/embeddings')!;

describe('gateway admission bounds', () => {
  it('bounds the input by the UTF-8 bytes of the content, keys included, and nothing else', () => {
    const body = { model: 'a-very-long-model-name', temperature: 1, messages: [{ role: 'user', content: 'héllo' }] };
    // role + user + content + héllo (é is 2 bytes)
    expect(inputBound(body)).toBe(4 + 4 + 7 + 6);
    expect(inputBound({ model: 'm', system: '日本', tools: [{ name: 'f' }] })).toBe(6 + 4 + 1);
  });

  it('refuses a body nested deeper than it will walk', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(() => inputBound({ messages: deep })).toThrow(AdmissionProblem);
  });

  it('bounds the output by the request’s limit, else the rule’s, else the default; embeddings have none', () => {
    expect(outputBound({ max_tokens: 7 }, chat, 100, 4096)).toBe(7);
    expect(outputBound({ max_completion_tokens: 8 }, chat, 100, 4096)).toBe(8);
    expect(outputBound({ max_output_tokens: 9 }, chat, 100, 4096)).toBe(9);
    expect(outputBound({}, chat, 100, 4096)).toBe(100);
    expect(outputBound({}, chat, null, 4096)).toBe(4096);
    expect(outputBound({ max_tokens: 7 }, embeddings, null, 4096)).toBe(0);
    for (const bad of [0, -1, 1.5, '10'])
      expect(() => outputBound({ max_tokens: bad }, chat, null, 4096)).toThrow(AdmissionProblem);
  });

  it('holds at the dearest tier for none or auto, and names Anthropic’s standard_only as the base', () => {
    expect(requestedTier({})).toBeNull();
    expect(requestedTier({ service_tier: 'auto' })).toBeNull();
    expect(requestedTier({ service_tier: 'flex' })).toBe('flex');
    expect(requestedTier({ service_tier: 'standard_only' })).toBe('standard');
  });
});
