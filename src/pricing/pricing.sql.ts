/**
 * The arithmetic of pricing-math.ts as SQL expressions, for statements that price inside the
 * database (a streaming settlement prices its tokens at the session's rule in the statement that
 * settles it). `rule` is the alias of a pricing_rules row, all NULL when there is none (the
 * default price applies); the other arguments are SQL expressions.
 *
 * Exact in numeric: prices have 4 places and dividing by 1000 is multiplying by 0.001, so nothing
 * is ever rounded but the final ceil (a numeric division would round to its own scale).
 * test/pricing-sql.int-spec.ts compares them with pricing-math.ts.
 */

/** credits = ceil((input × price + output × outputPrice) / 1000); numeric, may exceed integer. */
export function creditsSql(rule: string, input: string, output: string, defaultPrice: string): string {
  const price = `COALESCE(${rule}.price_per_1k_tokens, ${defaultPrice})`;
  const outputPrice = `COALESCE(${rule}.output_price_per_1k_tokens, ${rule}.price_per_1k_tokens, ${defaultPrice})`;
  return `ceil((${input}::numeric * ${price} + ${output}::numeric * ${outputPrice}) * 0.001)`;
}

/** tokens × providerCostPer1k / 1000 with 7 places; NULL when the rule has no provider cost (or there is none). */
export function providerCostSql(rule: string, totalTokens: string): string {
  return `(${totalTokens}::numeric * ${rule}.provider_cost_per_1k_tokens * 0.001)`;
}
