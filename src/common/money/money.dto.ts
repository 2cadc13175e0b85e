import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { Allow, IsObject, ValidateBy, ValidateNested, type ValidationOptions } from 'class-validator';

import { currencyProblem, type MoneyLimits, moneyProblem } from './currencies.js';

/**
 * Money as the API takes and shows it (docs/finance.md): a decimal string and an ISO 4217 code. Its
 * fields are checked together by the one money rule (IsMoney); @Allow() lets them through the
 * whitelist, which refuses any other field inside it.
 */
export class MoneyDto {
  @ApiProperty({
    example: '120.00',
    pattern: '^\\d{1,15}(\\.\\d{1,4})?$',
    description: 'More than 0, at most the currency’s minor unit places',
  })
  @Allow()
  amount: string;

  @ApiProperty({ example: 'usd', pattern: '^[a-z]{3}$', description: 'ISO 4217, lowercase' })
  @Allow()
  currency: string;
}

/**
 * `{amount, currency}` in a body, by the one money rule (moneyProblem()): an ISO 4217 currency and an
 * amount > 0 of at most its minor places (and `limits` where it is stored); a field other than the
 * two → 400. `type`: the class the body's object is (its OpenAPI schema), MoneyDto by default.
 */
export function IsMoney(
  limits: MoneyLimits = {},
  type: new () => object = MoneyDto,
  options?: ValidationOptions,
): PropertyDecorator {
  return applyDecorators(
    IsObject(options),
    ValidateNested(options),
    Type(() => type),
    ValidateBy(
      {
        name: 'isMoney',
        validator: {
          validate: (value: unknown) =>
            typeof value === 'object' && value !== null && moneyProblem(value, limits) === null,
          defaultMessage: (args) => {
            const value: unknown = args?.value;
            const problem =
              typeof value === 'object' && value !== null ? moneyProblem(value, limits) : 'must be an object';
            return `${args?.property ?? 'value'}: ${problem ?? 'invalid'}`;
          },
        },
      },
      options,
    ),
  );
}

/** A currency in a body: an ISO 4217 code in lowercase (the one money rule's currency). */
export function IsCurrency(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isCurrency',
      validator: {
        validate: (value: unknown) => currencyProblem(value) === null,
        defaultMessage: (args) => currencyProblem(args?.value) ?? `${args?.property ?? 'currency'} is invalid`,
      },
    },
    options,
  );
}

/**
 * An amount beside its currency in the same body (`{amount, currency}` flat, as a purchase has them),
 * by the one money rule; the currency's own problem is the currency field's to report (IsCurrency).
 */
export function IsAmountOf(currencyProperty: string, limits: MoneyLimits = {}, options?: ValidationOptions) {
  const currencyOf = (object: unknown) => (object as Record<string, unknown>)[currencyProperty];
  const problem = (amount: unknown, object: unknown) =>
    currencyProblem(currencyOf(object)) !== null
      ? null
      : moneyProblem({ amount, currency: currencyOf(object) }, limits);
  return ValidateBy(
    {
      name: 'isAmountOf',
      validator: {
        validate: (value: unknown, args) => problem(value, args?.object) === null,
        defaultMessage: (args) => problem(args?.value, args?.object) ?? `${args?.property ?? 'amount'} is invalid`,
      },
    },
    options,
  );
}

/** At most this many prices on a package or a plan, one per currency. */
export const MAX_PRICES = 20;

/**
 * Why `value` is not a list of prices (`[{amount, currency}]`, `min` to MAX_PRICES of them, each by
 * the one money rule within `limits`, no currency twice), or null.
 */
export function pricesProblem(value: unknown, limits: MoneyLimits = {}, min = 1): string | null {
  if (!Array.isArray(value)) return 'must be a list of {amount, currency}';
  if (value.length < min || value.length > MAX_PRICES) return `must hold ${min} to ${MAX_PRICES} prices`;
  const seen = new Set<unknown>();
  for (const [i, price] of value.entries()) {
    if (typeof price !== 'object' || price === null || Array.isArray(price)) return `[${i}] must be an object`;
    const extra = Object.keys(price).find((k) => k !== 'amount' && k !== 'currency');
    if (extra !== undefined) return `[${i}] has an unknown field ${extra}`;
    const problem = moneyProblem(price, limits);
    if (problem !== null) return `[${i}]: ${problem}`;
    const currency = (price as { currency: unknown }).currency;
    if (seen.has(currency)) return `[${i}]: one price per currency (${String(currency)} twice)`;
    seen.add(currency);
  }
  return null;
}

/** `prices` in a body: a list of money by pricesProblem(); `min` 0 lets a plan have none. */
export function IsPrices(limits: MoneyLimits = {}, min = 1, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isPrices',
      validator: {
        validate: (value: unknown) => pricesProblem(value, limits, min) === null,
        defaultMessage: (args) =>
          `${args?.property ?? 'prices'} ${pricesProblem(args?.value, limits, min) ?? 'invalid'}`,
      },
    },
    options,
  );
}
