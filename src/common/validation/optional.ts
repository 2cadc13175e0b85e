import { ValidateIf, type ValidationOptions } from 'class-validator';

/**
 * Like class-validator's `IsOptional`, but only an absent field skips validation: `null` is validated
 * like any other value (and so refused), because the OpenAPI schema of these fields does not allow it.
 * (class-validator's own treats null as absent, so `outputTokens: null` silently meant 0.)
 */
export function IsOptional(options?: ValidationOptions): PropertyDecorator {
  return ValidateIf((_object, value) => value !== undefined, options);
}

/** An optional field that may also be `null` (which then means something, e.g. "remove the limit"). */
export function IsOptionalOrNull(options?: ValidationOptions): PropertyDecorator {
  return ValidateIf((_object, value) => value !== undefined && value !== null, options);
}
