/**
 * Errors the services throw; one filter maps their codes to HTTP statuses, so services never think
 * in HTTP. `details` are added to the response body (e.g. requiredCredits for 402).
 */
export const DOMAIN_ERROR_STATUS = {
  INSUFFICIENT_CREDITS: 402,
  NOT_FOUND: 404,
  CONFLICT: 409,
  ALREADY_SETTLED: 409,
  IDEMPOTENCY_IN_FLIGHT: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  PRICING_UNKNOWN_MODEL: 422,
  VALIDATION: 400,
  FORBIDDEN: 403,
} as const;

export type DomainErrorCode = keyof typeof DOMAIN_ERROR_STATUS;

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }

  get status(): number {
    return DOMAIN_ERROR_STATUS[this.code];
  }
}

export class InsufficientCreditsError extends DomainError {
  constructor(requiredCredits: number, availableCredits: number) {
    super('INSUFFICIENT_CREDITS', 'Insufficient credits', { requiredCredits, availableCredits });
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string) {
    super('NOT_FOUND', `${what} not found`);
  }
}
