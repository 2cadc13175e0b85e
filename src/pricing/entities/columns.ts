import { Column } from 'typeorm';

/**
 * A price, or a provider's cost, per 1,000 tokens: `numeric(10,4)`, read as a string so no float ever
 * holds it. Nullable unless told otherwise: each entity says what stands in for a null.
 */
export function PriceColumn(name: string, { nullable = true }: { nullable?: boolean } = {}): PropertyDecorator {
  return Column({ name, type: 'numeric', precision: 10, scale: 4, nullable });
}

/** A count of one token kind (src/pricing/token-counts.ts): `integer`, null when it was not given. */
export function TokenCountColumn(name: string): PropertyDecorator {
  return Column({ name, type: 'integer', nullable: true });
}
