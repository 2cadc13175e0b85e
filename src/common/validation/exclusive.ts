import { registerDecorator, type ValidationArguments } from 'class-validator';

/** Refuses the field when `other` is given too ("give either a or b, not both"). */
export function NotTogetherWith(other: string) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'notTogetherWith',
      target: object.constructor,
      propertyName,
      constraints: [other],
      validator: {
        validate: (_value: unknown, args?: ValidationArguments) =>
          (args?.object as Record<string, unknown>)[other] === undefined,
        defaultMessage: (args?: ValidationArguments) => `give either ${args?.property} or ${other}, not both`,
      },
    });
}

/**
 * "Give exactly one of the two": on the field, with `ValidateIf((o, v) => v !== undefined || o[other]
 * === undefined)` so it is checked when given or when neither is; refuses both and neither.
 */
export function ExactlyOneOf(other: string) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'exactlyOneOf',
      target: object.constructor,
      propertyName,
      constraints: [other],
      validator: {
        validate: (value: unknown, args?: ValidationArguments) =>
          (value === undefined) !== ((args?.object as Record<string, unknown>)[other] === undefined),
        defaultMessage: (args?: ValidationArguments) => `give exactly one of ${args?.property} and ${other}`,
      },
    });
}
