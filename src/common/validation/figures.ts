import type { Type } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';

import { ApiInteger } from './integers.js';

/** One figure of a table: its example, or its example and what it means. */
type Figure<V> = V | readonly [example: V, description: string];

/**
 * A response class whose properties are all figures of one kind, declared as a table, one row a
 * property in the document's order (a roll-forward's columns, token counts per kind), where a class
 * would repeat one decorator line per property. `property` documents one figure.
 */
function figuresOf<K extends string, V>(
  property: (example: V, description: string | undefined) => PropertyDecorator,
  rows: Record<K, Figure<V>>,
): Type<Record<K, V>> {
  class Figures {}
  for (const [key, row] of Object.entries<Figure<V>>(rows)) {
    const [example, description] = Array.isArray(row) ? (row as readonly [V, string]) : [row as V, undefined];
    property(example, description)(Figures.prototype, key);
  }
  return Figures as Type<Record<K, V>>;
}

/** Whole numbers (credits, tokens), each an `ApiInteger()`. */
export const CountsOf = <K extends string>(rows: Record<K, Figure<number>>): Type<Record<K, number>> =>
  figuresOf((example, description) => ApiInteger({ example, description }), rows);

/** Amounts of money as the API writes them: decimal strings in the currency's unit. */
export const AmountsOf = <K extends string>(rows: Record<K, Figure<string>>): Type<Record<K, string>> =>
  figuresOf((example, description) => ApiProperty({ type: String, example, description }), rows);
