import { describe, expect, it } from 'vitest';

import { admissionBounds, AdmissionProblem, inputBound, outputBound, requestedTier } from './admission.js';
import { GATEWAY_ROUTES } from './routes.js';

const chat = GATEWAY_ROUTES.find((r) => r.path === '/chat/completions')!;
const responses = GATEWAY_ROUTES.find((r) => r.path === '/responses')!;
const messages = GATEWAY_ROUTES.find((r) => r.path === '/messages')!;
const embeddings = GATEWAY_ROUTES.find((r) => r.path === '/embeddings')!;
const limits = { maxOutputTokens: 4096, maxChoices: 8 };

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

  it('bounds the output by the route’s own limit, else the rule’s, else the default; embeddings have none', () => {
    expect(outputBound({ max_tokens: 7 }, chat, 100, limits)).toBe(7);
    expect(outputBound({ max_completion_tokens: 8 }, chat, 100, limits)).toBe(8);
    expect(outputBound({ max_completion_tokens: 8, max_tokens: 1 }, chat, 100, limits)).toBe(8);
    // A limit field chat does not honour bounds nothing: the rule's.
    expect(outputBound({ max_output_tokens: 9 }, chat, 100, limits)).toBe(100);
    expect(outputBound({}, chat, 100, limits)).toBe(100);
    expect(outputBound({}, chat, null, limits)).toBe(4096);
    expect(outputBound({ max_tokens: 7 }, embeddings, null, limits)).toBe(0);
    for (const bad of [0, -1, 1.5, '10'])
      expect(() => outputBound({ max_tokens: bad }, chat, null, limits)).toThrow(AdmissionProblem);
  });

  it('bounds each route by its own field only, and multiplies chat’s by n', () => {
    expect(outputBound({ max_tokens: 1, max_output_tokens: 100_000 }, responses, null, limits)).toBe(100_000);
    expect(outputBound({ max_output_tokens: 100_000, max_tokens: 5 }, messages, null, limits)).toBe(5);
    expect(outputBound({ max_tokens: 10, n: 8 }, chat, null, limits)).toBe(80);
    expect(outputBound({ max_tokens: 10, n: 8 }, responses, null, limits)).toBe(4096);
    for (const bad of [0, 9, 1.5, '2']) expect(() => outputBound({ n: bad }, chat, null, limits)).toThrow(/n must be/);
    // Rejected predicted tokens are output: the prediction's bytes per choice.
    expect(
      outputBound({ max_tokens: 10, n: 2, prediction: { type: 'content', content: 'abc' } }, chat, null, limits),
    ).toBe((10 + 4 + 7 + 7 + 3) * 2);
  });

  const rule = { contextWindow: null, maxOutputTokens: null, unitPrices: null };
  const bounds = (body: Record<string, unknown>, route = chat, r: typeof rule | Record<string, unknown> = rule) =>
    admissionBounds({ model: 'm', ...body }, route, r as typeof rule, { ...limits, maxToolUses: 10 });
  const refusal = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      return (error as AdmissionProblem).code;
    }
    return null;
  };

  it('holds input the body does not contain at the context window, and refuses it without one', () => {
    const windowed = { ...rule, contextWindow: 128_000 };
    for (const body of [
      { previous_response_id: 'resp_1', input: 'go on' },
      { conversation: 'conv_1', input: 'go on' },
      { prompt: { id: 'pmpt_1' } },
      { input: [{ type: 'item_reference', id: 'msg_1' }] },
      { input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file-1' }] }] },
      { input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'https://example.com/a.png' }] }] },
      { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/a.png' } }] }] },
      { messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://x/a' } }] }] },
      { messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'base64', data: 'JVBE' } }] }] },
    ]) {
      expect(
        refusal(() => bounds(body, responses)),
        JSON.stringify(body),
      ).toBe('UNBOUNDED_INPUT');
      expect(bounds(body, responses, windowed).input).toBe(128_000);
    }
    // A data: URL is in the body: its bytes bound it.
    const inline = {
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }],
    };
    expect(bounds(inline).input).toBe(inputBound(inline));
  });

  it('holds web searches at max_uses, else the default, and refuses them unpriced; refuses background', () => {
    const priced = { ...rule, contextWindow: 1000, unitPrices: { web_search_call: '3.0000' } };
    const tool = { type: 'web_search_20250305', name: 'web_search' };
    expect(bounds({ tools: [{ ...tool, max_uses: 3 }] }, messages, priced).units).toEqual({ web_search_call: 3 });
    expect(bounds({ tools: [{ type: 'web_search' }] }, responses, priced).units).toEqual({ web_search_call: 10 });
    expect(bounds({ web_search_options: {} }, chat, priced).units).toEqual({ web_search_call: 10 });
    expect(bounds({ tools: [{ type: 'web_search' }] }, responses, priced).input).toBe(1000);
    expect(refusal(() => bounds({ tools: [tool] }, messages, { ...priced, unitPrices: null }))).toBe('UNPRICED_UNIT');
    expect(refusal(() => bounds({ background: true }, responses, priced))).toBe('UNSUPPORTED_MODE');
    expect(refusal(() => bounds({ tools: [{ type: 'file_search' }] }, responses, priced))).toBe('UNSUPPORTED_MODE');
    expect(bounds({ tools: [{ type: 'function', name: 'f' }] }, responses, priced).units).toBeNull();
  });

  it('holds at the dearest tier for none or auto, and names Anthropic’s standard_only as the base', () => {
    expect(requestedTier({})).toBeNull();
    expect(requestedTier({ service_tier: 'auto' })).toBeNull();
    expect(requestedTier({ service_tier: 'flex' })).toBe('flex');
    expect(requestedTier({ service_tier: 'standard_only' })).toBe('standard');
  });
});
