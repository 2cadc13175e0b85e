import { applyDecorators } from '@nestjs/common';
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
