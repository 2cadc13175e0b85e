import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';

/** A whole number as a query string should write it: decimal digits, maybe a minus, nothing else. */
const DECIMAL_INTEGER = /^-?[0-9]+$/;

/**
 * A query string's value as a number when it is a plain decimal integer; otherwise the text as it came,
 * for `IsInt` to refuse. `Number()` (what `@Type(() => Number)` calls) also reads hexadecimal
 * (`0x10`), binary (`0b1`), octal (`0o7`), exponents (`1e2`), a plus sign (`+5`), surrounding white
 * space (` 5`, `%205`) and the empty string (as 0), all of which a client would not mean as a count.
 */
export const toDecimalInteger = ({ value }: { value: unknown }) =>
  typeof value === 'string' && DECIMAL_INTEGER.test(value) ? Number(value) : value;

/** An integer query parameter in [min, max], written in plain decimal digits (the one rule for them). */
export function QueryInteger(range: { min: number; max: number }): PropertyDecorator {
  return applyDecorators(
    Transform(toDecimalInteger),
    IsInt({ message: ({ property }) => `${property} must be an integer written in decimal digits` }),
    Min(range.min),
    Max(range.max),
  );
}

/** What an integer property documents besides its type. */
type IntegerOptions = Pick<
  ApiPropertyOptions,
  'example' | 'description' | 'minimum' | 'maximum' | 'nullable' | 'default' | 'isArray'
>;

/**
 * A whole number the API answers or takes (credits, tokens, records, seconds, status codes): an
 * `integer` schema, never `number`, so that a client generated in a language with both reads it as
 * the whole number it is (docs/clients.md; test/unit/openapi-integers.spec.ts holds the document).
 */
export function ApiInteger(options: IntegerOptions = {}): PropertyDecorator {
  return ApiProperty({ type: 'integer', ...options });
}

/** `ApiInteger()` of a property a body or an answer may leave out. */
export function ApiIntegerOptional(options: IntegerOptions = {}): PropertyDecorator {
  return ApiPropertyOptional({ type: 'integer', ...options });
}
