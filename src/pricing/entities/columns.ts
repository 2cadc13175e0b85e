import { Column } from 'typeorm';

/**
 * A price, or a provider's cost, per 1,000 tokens: `numeric(16,10)` (10 places since migration 1732005800000), read as a string so no float ever
 * holds it. Nullable unless told otherwise: each entity says what stands in for a null.
 */
export function PriceColumn(name: string, { nullable = true }: { nullable?: boolean } = {}): PropertyDecorator {
  return Column({ name, type: 'numeric', precision: 16, scale: 10, nullable });
}

/** A count of one token kind (src/pricing/token-counts.ts): `integer`, null when it was not given. */
export function TokenCountColumn(name: string): PropertyDecorator {
  return Column({ name, type: 'integer', nullable: true });
}
