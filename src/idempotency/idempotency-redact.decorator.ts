import { SetMetadata } from '@nestjs/common';

/** Metadata key: response fields the idempotency store must never persist (they carry secrets). */
export const IDEMPOTENCY_REDACT = 'idempotency:redact';

/**
 * Marks top-level fields of a handler's response as secret: the Idempotency-Key interceptor must not
 * store them (a replay answers without them). Example: the plaintext `key` of a created API key.
 */
export const IdempotencyRedact = (...fields: string[]) => SetMetadata(IDEMPOTENCY_REDACT, fields);
