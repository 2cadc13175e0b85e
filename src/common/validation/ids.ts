import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsString, Matches, MaxLength } from 'class-validator';

import { IsOptional } from './optional.js';

/** A UUID in its canonical text form (any version), as PostgreSQL's `uuid` accepts it. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/**
 * A model id: 1–100 characters, none of them whitespace, a control character or an invisible format
 * character (zero-width space, joiners, BOM, bidi marks). Such ids are never a provider's model:
 * `"gpt-4o "` or `"gpt\u200b-4o"` would otherwise look like a priced model to a person and be billed
 * as an unknown one.
 */
export const MODEL_ID_PATTERN = /^[^\s\p{Cc}\p{Cf}]{1,100}$/u;

export function isModelId(value: unknown): value is string {
  return typeof value === 'string' && MODEL_ID_PATTERN.test(value);
}

export function IsModelId(): PropertyDecorator {
  return applyDecorators(
    IsString(),
    IsNotEmpty(),
    MaxLength(100),
    Matches(MODEL_ID_PATTERN, {
      message: 'modelId must not contain whitespace, control or invisible (zero-width) characters',
    }),
  );
}

/** A user id (a token's `sub`): a non-empty string of at most 50 characters, as user_id columns hold. */
export function IsUserId(): PropertyDecorator {
  return applyDecorators(IsString(), IsNotEmpty(), MaxLength(50));
}

/**
 * An optional `userId` naming a user, as the API documents it (`alice`, at most 50) with what it
 * means here. The decorators run last to first, as they would stacked above the property in the
 * opposite order, so the checks keep the order of their messages in a 400.
 */
export function OptionalUserId(description: string): PropertyDecorator {
  return applyDecorators(
    IsUserId(),
    IsOptional(),
    ApiPropertyOptional({ example: 'alice', maxLength: 50, description }),
  );
}

/**
 * An organisation id: 3–50 of a-z, 0-9, `-` and `_`, starting with a letter or a digit (docs/orgs.md).
 */
export const ORG_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{2,49}$/;

export function isOrgId(value: unknown): value is string {
  return typeof value === 'string' && ORG_ID_PATTERN.test(value);
}

/**
 * An optional `orgId` naming an organisation's account, as the API documents it (`acme`, at most 50)
 * with what it means here; the pattern's message as a 400 gives it. Stacked as `OptionalUserId`.
 */
export function OptionalOrgId(description: string): PropertyDecorator {
  return applyDecorators(
    Matches(ORG_ID_PATTERN, { message: 'orgId must be 3–50 of a-z 0-9 - _, starting with a letter or digit' }),
    IsString(),
    IsOptional(),
    ApiPropertyOptional({ example: 'acme', maxLength: 50, description }),
  );
}

export function IsOrgId(): PropertyDecorator {
  return applyDecorators(
    IsString(),
    Matches(ORG_ID_PATTERN, {
      message: 'orgId must be 3–50 of a-z, 0-9, - and _, starting with a letter or a digit',
    }),
  );
}
