import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { registerDecorator, type ValidationArguments } from 'class-validator';

import { ApiInteger } from '../../common/validation/integers.js';
import { GRANT_PERIODS, type GrantPeriod, grantShape, MAX_CONFIG_BYTES, MAX_GRANT_LIMIT } from '../grants.js';

/** A metered feature's grant: `limit` uses per `period` (UTC; weeks start on Monday). */
export class MeteredGrantDto {
  @ApiInteger({ minimum: 0, maximum: MAX_GRANT_LIMIT, example: 100 })
  limit: number;

  @ApiProperty({ enum: GRANT_PERIODS, example: 'day' })
  period: GrantPeriod;
}

/** A config feature's grant: a JSON value of at most 1 KB. */
export class ConfigGrantDto {
  @ApiProperty({
    description: `Any JSON value (at most ${MAX_CONFIG_BYTES} bytes): a number, a string, an object…`,
    oneOf: [
      { type: 'number' },
      { type: 'string' },
      { type: 'boolean' },
      { type: 'object' },
      { type: 'array', items: {} },
    ],
    example: 200000,
  })
  value: unknown;
}

/**
 * The OpenAPI schema of a grant or null: true/false, {limit, period} or {value}. OpenAPI 3.0 has no
 * nullable $ref: null is its own branch (as a plan's price).
 */
export const NULLABLE_GRANT_SCHEMA = {
  oneOf: [
    { type: 'boolean' },
    { $ref: getSchemaPath(MeteredGrantDto) },
    { $ref: getSchemaPath(ConfigGrantDto) },
    { type: 'object', nullable: true, enum: [null] },
  ],
};

/** A grant's shape (its type against the feature's is the service's check): true/false, {limit, period}, {value}. */
export function IsGrantShape(): PropertyDecorator {
  return (object: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isGrantShape',
      target: object.constructor,
      propertyName: propertyName as string,
      validator: {
        validate: (value: unknown) => !('problem' in grantShape(value)),
        defaultMessage: (args?: ValidationArguments) => {
          const shape = grantShape(args?.value);
          return `${args?.property} ${'problem' in shape ? shape.problem : 'is invalid'}`;
        },
      },
    });
}

/** A grant field of a response (null: none). */
export function GrantProperty(description: string, example: unknown, optional = false): PropertyDecorator {
  const options = { ...NULLABLE_GRANT_SCHEMA, example, description };
  return applyDecorators(optional ? ApiPropertyOptional(options) : ApiProperty(options));
}
