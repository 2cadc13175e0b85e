import { ApiProperty } from '@nestjs/swagger';
import { ValidateBy, type ValidationOptions } from 'class-validator';

import { moneyProblem } from '../currencies.js';

/** Money as the API takes and shows it (docs/finance.md): a decimal string and an ISO 4217 code. */
export class MoneyDto {
  @ApiProperty({
    example: '120.00',
    pattern: '^\\d{1,15}(\\.\\d{1,4})?$',
    description: 'More than 0, at most the currency’s minor unit places',
  })
  amount: string;

  @ApiProperty({ example: 'usd', pattern: '^[a-z]{3}$', description: 'ISO 4217, lowercase' })
  currency: string;
}

/** `{amount, currency}`: an ISO 4217 currency and an amount > 0 of at most its minor unit places. */
export function IsMoney(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isMoney',
      validator: {
        validate: (value: unknown) => typeof value === 'object' && value !== null && moneyProblem(value) === null,
        defaultMessage: (args) => {
          const value: unknown = args?.value;
          const problem = typeof value === 'object' && value !== null ? moneyProblem(value) : 'must be an object';
          return `${args?.property ?? 'value'}: ${problem ?? 'invalid'}`;
        },
      },
    },
    options,
  );
}
