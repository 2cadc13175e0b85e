// A record priced from the provider's usage object against the same record priced from token kinds
// (docs/provider-usage.md "Cost"): the same call, the same user mix, in interleaved rounds of
// half-length windows, compared by the service's CPU per request summed over the rounds (one 5 s
// window moves by ±20 % on a shared machine; interleaving spreads the drift over both sides).

/** A bench model with a rule of its own (so strict pricing in production never refuses it). */
export const BENCH_MODEL = 'bench.provider-usage-model';

/** Anthropic's usage of a streamed answer (anthropic-sdk-typescript's MessageStream test), and its kinds. */
export const ANTHROPIC_USAGE = {
  input_tokens: 42,
  output_tokens: 99,
  cache_creation_input_tokens: 7,
  cache_read_input_tokens: 8,
  server_tool_use: { web_search_requests: 1, web_fetch_requests: 2 },
  service_tier: 'standard',
};
export const ANTHROPIC_KINDS = { inputTokens: 42, outputTokens: 99, cacheWriteTokens: 7, cacheReadTokens: 8 };

/** The two bodies (without the billed user): the same call as token kinds and as provider usage. */
export const BODIES = {
  kinds: { service: 'chat', operation: 'completion', modelId: BENCH_MODEL, ...ANTHROPIC_KINDS },
  provider: {
    service: 'chat',
    operation: 'completion',
    modelId: BENCH_MODEL,
    providerUsage: { format: 'anthropic', usage: ANTHROPIC_USAGE },
  },
};

/** The bench model's rule, created by an admin (each kind priced, as a current model is). */
export async function createBenchRule(base, adminAuthorization) {
  const res = await fetch(`${base}/api/pricing`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: adminAuthorization },
    body: JSON.stringify({
      modelId: BENCH_MODEL,
      pricePer1kTokens: '3',
      outputPricePer1kTokens: '15',
      cacheReadPricePer1kTokens: '0.3',
      cacheWritePricePer1kTokens: '3.75',
      // the usage's web search, priced as a unit (docs/provider-usage.md): unpriced, the record is refused
      unitPrices: { web_search_call: '10' },
    }),
  });
  if (res.status !== 201) throw new Error(`bench pricing rule: ${res.status} ${await res.text()}`);
}

/**
 * `rounds` rounds, each a window of token-kind records then one of provider-usage records (the
 * order alternating by round): `measureWindow(body)` measures one window of records with that body.
 */
export async function providerUsageRounds(measureWindow, rounds) {
  const kinds = [];
  const provider = [];
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      kinds.push(await measureWindow(BODIES.kinds));
      provider.push(await measureWindow(BODIES.provider));
    } else {
      provider.push(await measureWindow(BODIES.provider));
      kinds.push(await measureWindow(BODIES.kinds));
    }
  }
  return { kinds, provider };
}
