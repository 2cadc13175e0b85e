import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsString, Matches, MaxLength } from 'class-validator';

import { IsOptionalOrNull } from './optional.js';

/**
 * A model pattern: an exact model id (no whitespace, control or invisible character), or a prefix of
 * one ending in `*` (`anthropic.*`; `*` alone names every model). One rule for the model lists of keys,
 * organisations and plans and for account prices.
 */
export const MODEL_PATTERN = /^[^\s\p{Cc}\p{Cf}*]{0,99}\*$|^[^\s\p{Cc}\p{Cf}*]{1,100}$/u;
export const MAX_MODEL_PATTERNS = 100;

const PATTERN_MESSAGE = 'each model must be a model id, or a prefix ending in * (no whitespace or invisible character)';

/**
 * `models`: 1–100 patterns, or null (every model: clears a list). Absent leaves it as it is (a PATCH)
 * or unset (a create).
 */
export function ModelPatterns(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: [String],
      nullable: true,
      minItems: 1,
      maxItems: MAX_MODEL_PATTERNS,
      example: ['anthropic.*', 'gpt-4o-mini'],
      description:
        'The models it may meter: exact model ids, or prefixes ending in `*`; null: every model (clears a list). ' +
        'An empty list is refused.',
    }),
    IsOptionalOrNull(),
    IsArray(),
    ArrayMinSize(1, { message: 'models must list at least one model (null allows every model)' }),
    ArrayMaxSize(MAX_MODEL_PATTERNS),
    IsString({ each: true }),
    MaxLength(100, { each: true }),
    Matches(MODEL_PATTERN, { each: true, message: PATTERN_MESSAGE }),
  );
}
