/**
 * Errors the services throw; one filter maps their codes to HTTP statuses, so services never think
 * in HTTP. `details` are added to the response body (e.g. requiredCredits for 402).
 */
export const DOMAIN_ERROR_STATUS = {
  INSUFFICIENT_CREDITS: 402,
  KEY_LIMIT_EXCEEDED: 402,
  MEMBER_LIMIT_EXCEEDED: 402,
  BUDGET_EXCEEDED: 402,
  SPEND_RATE_LIMITED: 429,
  TOO_MANY_EXPORTS: 429,
  HEAVY_READS_BUSY: 429,
  RANGE_TOO_LONG: 400,
  OCCURRED_AT_OUT_OF_RANGE: 400,
  NOT_FOUND: 404,
  SESSION_EXISTS: 409,
  PLAN_EXISTS: 409,
  PLAN_INACTIVE: 409,
  NO_PERIOD_IN_PROGRESS: 409,
  PERIOD_ALREADY_GRANTED: 409,
  REVIEW_ALREADY_RESOLVED: 409,
  REVIEW_NOT_OPEN: 409,
  EVENT_RECORD_GONE: 409,
  WEBHOOK_INACTIVE: 409,
  API_KEY_QUOTA: 409,
  ALREADY_SETTLED: 409,
  PURCHASE_EXISTS: 409,
  PURCHASE_NOT_PAYABLE: 409,
  PURCHASE_NOT_PENDING: 409,
  PURCHASE_NOT_PAID: 409,
  REFUND_EXCEEDS_REFUNDABLE: 409,
  AUTO_RECHARGE_ATTEMPT_CLOSED: 409,
  PACKAGE_EXISTS: 409,
  PACKAGE_NOT_FOUND: 404,
  PRICE_BELOW_PACKAGES: 422,
  CURRENCY_MISMATCH: 409,
  PROMOTION_EXISTS: 409,
  PROMOTION_NOT_FOUND: 404,
  PROMOTION_EXHAUSTED: 409,
  PROMOTION_ALREADY_REDEEMED: 409,
  PROMOTION_NOT_ELIGIBLE: 403,
  PROMOTION_FAILURE_LIMIT: 429,
  IDEMPOTENCY_IN_FLIGHT: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  CORRECTION_ID_REUSED: 422,
  TOO_MANY_CORRECTIONS: 409,
  RERATE_ID_REUSED: 422,
  EVENT_ID_REUSED: 422,
  PRICING_UNKNOWN_MODEL: 422,
  FX_RATE_MISSING: 422,
  VALIDATION: 400,
  REPORT_TOO_LARGE: 400,
  UNKNOWN_SERVICE_TIER: 400,
  UNPRICED_UNIT: 400,
  FORBIDDEN: 403,
  METERING_REQUIRES_SERVICE: 403,
  API_KEY_MISMATCH: 400,
  SELF_GRANT_FORBIDDEN: 403,
  NOT_A_MEMBER: 403,
  ORG_EXISTS: 409,
  ORG_ROLE_FORBIDDEN: 403,
  MODEL_NOT_ENTITLED: 403,
  ACCOUNT_PRICE_STARTED: 409,
  LAST_OWNER: 409,
  DATABASE_UNAVAILABLE: 503,
  OUTCOME_UNKNOWN: 503,
  EXPORTS_BUSY: 503,
  EXPORT_RUNNING: 409,
  EXPORTS_NOT_CONFIGURED: 409,
  TIMEOUT: 503,
  ACCOUNT_ERASED: 409,
  FEATURE_EXISTS: 409,
  BUDGET_EXISTS: 409,
  GRANT_INVALID: 400,
  FEATURE_NOT_METERED: 400,
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

/**
 * The person was erased (docs/erasure.md): 409 for a write that would bill, grant or sell to them, 401
 * for their own token (it authenticates no one any more).
 */
export class AccountErasedError extends DomainError {
  constructor(private readonly answer: 401 | 409 = 409) {
    super('ACCOUNT_ERASED', answer === 401 ? 'This account was erased' : 'The account was erased');
  }

  override get status(): number {
    return this.answer;
  }
}

export class InsufficientCreditsError extends DomainError {
  constructor(requiredCredits: number, availableCredits: number) {
    super('INSUFFICIENT_CREDITS', 'Insufficient credits', { requiredCredits, availableCredits });
  }
}

/** The API key's credit budget for its period would be exceeded (nothing was written). */
export class KeyLimitExceededError extends DomainError {
  constructor(requiredCredits: number) {
    super('KEY_LIMIT_EXCEEDED', 'This API key’s credit limit for the period would be exceeded', { requiredCredits });
  }
}

/**
 * An organisation member's spend limit for its period would be exceeded (nothing was written): the
 * limit, what the member spent from the org in the period (open holds included) and when it resets.
 */
export class MemberLimitExceededError extends DomainError {
  constructor(requiredCredits: number, limit: number, spentInPeriod: number, resetsAt: string) {
    super('MEMBER_LIMIT_EXCEEDED', 'Your spend limit in this organisation for the period would be exceeded', {
      requiredCredits,
      limit,
      spentInPeriod,
      resetsAt,
    });
  }
}

/**
 * A budget by scope that the write names (or one of its parents) cannot cover it (nothing was
 * written): the budget, its limit and what it used and held in its period (docs/budgets.md).
 */
export class BudgetExceededError extends DomainError {
  constructor(budgetId: string, limit: number, used: number, held: number) {
    super('BUDGET_EXCEEDED', `Budget ${budgetId} cannot cover this write`, { budgetId, limit, used, held });
  }
}

/** A charge to an organisation by someone who is not an active member of it (nothing was written). */
export class NotAMemberError extends DomainError {
  constructor(orgId: string, userId: string) {
    super('NOT_A_MEMBER', `${userId} is not an active member of organisation ${orgId}`, { orgId });
  }
}

/** The user's credits spent in the trailing hour would exceed their limit (nothing was written). */
export class SpendRateLimitedError extends DomainError {
  constructor(readonly retryAfterSeconds: number) {
    super('SPEND_RATE_LIMITED', 'Hourly spend limit reached; retry later', { retryAfter: retryAfterSeconds });
  }
}

/** The caller already has as many CSV exports streaming as one user may (nothing was opened). */
export class TooManyExportsError extends DomainError {
  constructor(limit: number, retryAfterSeconds: number, poolShared = false) {
    super(
      'TOO_MANY_EXPORTS',
      poolShared
        ? 'You have a CSV export running and the export connections are shared: retry when it has finished'
        : `At most ${limit} CSV exports per user at a time; retry when one has finished`,
      { retryAfter: retryAfterSeconds },
    );
  }
}

/** Every connection the CSV exports may hold (EXPORT_POOL_SIZE) stayed in use while this one waited. */
export class ExportsBusyError extends DomainError {
  constructor(retryAfterSeconds: number) {
    super('EXPORTS_BUSY', 'Too many CSV exports are running; please retry later', { retryAfter: retryAfterSeconds });
  }
}

/** As many heavy reads as one instance runs at once (HEAVY_READS_CONCURRENCY) are running: nothing was started. */
export class HeavyReadsBusyError extends DomainError {
  constructor(retryAfterSeconds: number) {
    super('HEAVY_READS_BUSY', 'Too many reports and simulations are running; please retry later', {
      retryAfter: retryAfterSeconds,
    });
  }
}

/** A heavy read ran past HEAVY_READ_TIMEOUT_SECONDS: the database cancelled it, nothing was changed. */
export class HeavyReadTimeoutError extends DomainError {
  constructor(seconds: number) {
    super('TIMEOUT', `The report took longer than ${seconds} s and was stopped; narrow it (a shorter range, a page)`);
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string) {
    super('NOT_FOUND', `${what} not found`);
  }
}

/** The database could not be reached or the connection broke before anything could commit. */
export class DatabaseUnavailableError extends DomainError {
  constructor(cause?: unknown) {
    super('DATABASE_UNAVAILABLE', 'Database unavailable, nothing was changed; please retry');
    this.cause = cause;
  }
}

/**
 * The connection broke while a change was committing (or while a self-committing statement ran): it
 * may or may not have taken effect. Retrying with the same Idempotency-Key is safe and tells which.
 */
export class OutcomeUnknownError extends DomainError {
  constructor(cause?: unknown) {
    super(
      'OUTCOME_UNKNOWN',
      'The database connection was lost while the change was being committed: it may or may not have taken effect. ' +
        'Retry with the same Idempotency-Key to learn the outcome safely.',
    );
    this.cause = cause;
  }
}
