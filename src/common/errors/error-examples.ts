import { DOMAIN_ERROR_STATUS, type DomainErrorCode } from './domain-error.js';
import { ErrorResponseDto } from './error-response.dto.js';
import { REASON_PHRASE } from './reason-phrases.js';

export { REASON_PHRASE };

export interface ExampleObject {
  summary: string;
  value: unknown;
}

export type NamedExamples = Record<string, ExampleObject>;

/** One named example of an error body a route answers with a domain error (`code` set). */
export function domainErrorExample(
  code: DomainErrorCode,
  message: string,
  summary: string,
  details: Record<string, unknown> = {},
): ExampleObject {
  const status = DOMAIN_ERROR_STATUS[code];
  return { summary, value: { statusCode: status, message, error: REASON_PHRASE[status], code, ...details } };
}

/** An error body without a `code` (guards, the validation pipe, the body parser). */
export function plainErrorExample(status: number, message: string | string[], summary: string): ExampleObject {
  return { summary, value: { statusCode: status, message, error: REASON_PHRASE[status] } };
}

export const notFoundExample = (what: string): NamedExamples => ({
  notFound: domainErrorExample('NOT_FOUND', `${what} not found`, `Unknown ${what.toLowerCase()}`),
});

export const insufficientCreditsExample: NamedExamples = {
  insufficientCredits: domainErrorExample('INSUFFICIENT_CREDITS', 'Insufficient credits', 'The balance is short', {
    requiredCredits: 120,
    availableCredits: 40,
  }),
};

export const unknownModelExample: NamedExamples = {
  unknownModel: domainErrorExample(
    'PRICING_UNKNOWN_MODEL',
    'No price for model acme.unpriced-model',
    'Unknown model while PRICING_STRICT=true',
    { modelId: 'acme.unpriced-model' },
  ),
};

const IDEMPOTENCY_IN_FLIGHT = domainErrorExample(
  'IDEMPOTENCY_IN_FLIGHT',
  'A request with this Idempotency-Key is still in progress',
  'The same Idempotency-Key is still in progress',
);
const IDEMPOTENCY_KEY_REUSED = domainErrorExample(
  'IDEMPOTENCY_KEY_REUSED',
  'This Idempotency-Key was already used with a different request',
  'Idempotency-Key reused with another body',
);

/**
 * The examples every operation gets for the statuses the whole service answers the same way (added
 * by the document's post-processing, next to the route's own). `op` tells which apply.
 */
export function commonErrorExamples(
  status: number,
  op: { post: boolean; scope?: string; role?: string },
): NamedExamples {
  switch (status) {
    case 400:
      return {
        invalidBody: plainErrorExample(400, ['credits must not be less than 0'], 'A field fails validation'),
        invalidValue: domainErrorExample('VALIDATION', 'cursor is not valid', 'A value the route cannot use'),
        unknownField: plainErrorExample(400, ['property userName should not exist'], 'A field the route does not take'),
      };
    case 401:
      return { unauthenticated: plainErrorExample(401, 'Authentication required', 'No credentials') };
    case 403:
      return {
        ...(op.role
          ? { role: plainErrorExample(403, `Requires role ${op.role}`, `The caller is below role ${op.role}`) }
          : {}),
        ...(op.scope
          ? {
              scope: plainErrorExample(403, `API key lacks the scope ${op.scope}`, 'An API key without the scope'),
            }
          : { apiKey: plainErrorExample(403, 'API keys cannot call this route', 'Called with an API key') }),
      };
    case 409:
      return op.post ? { idempotencyInFlight: IDEMPOTENCY_IN_FLIGHT } : {};
    case 413:
      return { tooLarge: plainErrorExample(413, 'Request body too large', 'Body over BODY_LIMIT') };
    case 415:
      return { notJson: plainErrorExample(415, 'Content-Type must be application/json', 'A body that is not JSON') };
    case 422:
      return op.post ? { idempotencyKeyReused: IDEMPOTENCY_KEY_REUSED } : {};
    case 429:
      return { rateLimited: plainErrorExample(429, 'ThrottlerException: Too Many Requests', 'Over THROTTLE_LIMIT') };
    case 503:
      return {
        databaseUnavailable: domainErrorExample(
          'DATABASE_UNAVAILABLE',
          'Database unavailable, nothing was changed; please retry',
          'Nothing changed; retry',
        ),
        ...(op.post
          ? {
              outcomeUnknown: domainErrorExample(
                'OUTCOME_UNKNOWN',
                'The database connection was lost while the change was being committed: it may or may not have taken effect. ' +
                  'Retry with the same Idempotency-Key to learn the outcome safely.',
                'The change may have committed; retry with the same Idempotency-Key',
              ),
            }
          : {}),
      };
    default:
      return {};
  }
}

/**
 * A write naming an erased person's account (docs/erasure.md), on a route with no other 409: its
 * whole conflict answer, for `@ApiConflictResponse()`.
 */
/** The example alone, for a route whose 409 has other causes too. */
export const ACCOUNT_ERASED_EXAMPLE = {
  erased: domainErrorExample('ACCOUNT_ERASED', 'The account was erased', 'An erased person’s account'),
};

export const ACCOUNT_ERASED_CONFLICT = {
  description: 'The account’s person was erased: `code` ACCOUNT_ERASED',
  type: ErrorResponseDto,
  examples: ACCOUNT_ERASED_EXAMPLE,
};
