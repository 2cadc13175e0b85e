// A record with a service tier and units against the same record without them (docs/pricing.md
// "Service tiers", "Units"): the same model, tokens and user mix, in interleaved rounds of half-length
// windows, compared by summed requests and by the service's Node CPU per request (one 5 s window moves
// by ±20 % on a shared machine; interleaving spreads the drift over both sides).
//
// node bench/dimensions.mjs (after npm run build; npm run bench:dimensions builds first) runs the
// comparison alone on a fresh database; npm run bench runs it among its scenarios.

/** A bench model whose rule prices two tiers and two units. */
export const DIMENSIONS_MODEL = 'bench.dimensions-model';

const TOKENS = { inputTokens: 1200, outputTokens: 300 };

/** The two bodies (without the billed user): plain, and at flex with web searches and an image. */
export const DIMENSION_BODIES = {
  plain: { service: 'chat', operation: 'completion', modelId: DIMENSIONS_MODEL, ...TOKENS },
  dimensions: {
    service: 'chat',
    operation: 'completion',
    modelId: DIMENSIONS_MODEL,
    ...TOKENS,
    serviceTier: 'flex',
    units: { web_search_call: 2, 'image.1024x1024.hd': 1 },
  },
};

/** The bench model's rule, created by an admin: flex and priority, web searches and an image size. */
export async function createDimensionsRule(base, adminAuthorization) {
  const res = await fetch(`${base}/api/pricing`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: adminAuthorization },
    body: JSON.stringify({
      modelId: DIMENSIONS_MODEL,
      pricePer1kTokens: '2.5',
      outputPricePer1kTokens: '10',
      serviceTiers: { flex: { pricePercent: '50' }, priority: { pricePercent: '200' } },
      unitPrices: { web_search_call: '10', 'image.1024x1024.hd': '40' },
    }),
  });
  if (res.status !== 201) throw new Error(`bench dimensions rule: ${res.status} ${await res.text()}`);
}

/**
 * `rounds` rounds, each a window of plain records and one of records with a tier and units (the order
 * alternating by round): `measureWindow(body)` measures one window of records with that body.
 */
export async function dimensionRounds(measureWindow, rounds) {
  const plain = [];
  const dimensions = [];
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      plain.push(await measureWindow(DIMENSION_BODIES.plain));
      dimensions.push(await measureWindow(DIMENSION_BODIES.dimensions));
    } else {
      dimensions.push(await measureWindow(DIMENSION_BODIES.dimensions));
      plain.push(await measureWindow(DIMENSION_BODIES.plain));
    }
  }
  return { plain, dimensions };
}

/** The two sides' ratios: requests summed over the rounds, and Node CPU per request. */
export function dimensionSummary(rounds, plainRow, dimensionsRow) {
  const summed = (windows) => windows.reduce((sum, w) => sum + w.result.requests.total, 0);
  return {
    requestRatio: summed(rounds.dimensions) / summed(rounds.plain),
    cpuRatio: dimensionsRow['CPU µs/req'] / plainRow['CPU µs/req'],
  };
}
