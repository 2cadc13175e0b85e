// The provider stand-in's model, key and non-streamed answer, shared by the gateway benches
// (bench/gateway.mjs, bench/gateway-together.mjs): both measure the gateway against the same upstream.
export const MODEL = 'bench-gateway-model';
export const PROVIDER_KEY = 'sk-bench-provider-key-0123456789';

export const usage = { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 };
export const answer = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: MODEL,
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there, friend!' }, finish_reason: 'stop' }],
  usage,
});
