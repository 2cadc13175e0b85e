import { applyDecorators } from '@nestjs/common';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

/** A UUID in its canonical text form (any version), as PostgreSQL's `uuid` accepts it. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** A user id (a token's `sub`): a non-empty string of at most 50 characters, as user_id columns hold. */
export function IsUserId(): PropertyDecorator {
  return applyDecorators(IsString(), IsNotEmpty(), MaxLength(50));
}
