import {
  abortSession,
  type AbortSessionData,
  checkEntitlement,
  type CheckEntitlementData,
  type Client,
  createAccountingClient,
  finalizeSession,
  type FinalizeSessionData,
  initializeSession,
  type InitializeSessionData,
} from '../../typescript/src/index.js';
import type { Termination, UsageFormat } from './formats.js';

/** The initialize answer (docs/streaming-sessions.md). */
export interface MeterSession {
  sessionId: string;
  userId: string;
  modelId: string;
  estimatedCredits: number;
  allocatedCredits: number;
  usedCredits: number;
  status: string;
  startedAt: string;
  expiresAt: string;
  [field: string]: unknown;
}

/** The finalize or abort answer, as the service gave it. */
export interface MeterSettlement {
  sessionId: string;
  /** `completed` or `failed` (finalize), `aborted` (abort). */
  status: string;
  refund: number;
  shortfall: number;
  actualCredits?: number;
  partialCredits?: number;
  [field: string]: unknown;
}

export type Counts =
  | { providerUsage: { format: UsageFormat; usage: Record<string, unknown>; serviceTier?: string } }
  | { inputTokens: number; outputTokens: number; serviceTier?: string };

export interface InitializeBody {
  userId: string;
  orgId?: string;
  apiKeyId?: string;
  sessionId: string;
  modelId: string;
  inputTokens: number;
  outputTokens: number;
  /** The tier asked of the provider (`auto`: held at the most expensive). */
  serviceTier?: string;
}

export type SettleBody = { userId: string; sessionId: string; termination: Termination } & Counts;

export interface RetryOptions {
  /** Attempts in all, the first included (default 5). */
  attempts?: number;
  /** Wait before the first retry, doubled for each next one (default 200 ms, at most 5 s). */
  delayMs?: number;
}

/** What `meter.check` sends besides the feature: whose account, and what to consume (docs/features.md). */
export interface CheckOptions {
  /** The user whose grants decide (a user's own account). */
  userId?: string;
  /** The organisation whose grants decide (give it instead of `userId` when the org pays). */
  orgId?: string;
  /** Uses to take from a metered feature's limit, under the account's lock; nothing when refused. */
  consume?: number;
  /** The caller's id of the use (with `consume`): the same id again answers the first result and takes nothing. */
  eventId?: string;
}

/** The check's answer, as the service gave it. */
export interface FeatureCheck {
  featureKey: string;
  type: 'boolean' | 'metered' | 'config';
  allowed: boolean;
  /** Why not: `not_granted`, `limit_reached` or `unknown_feature`. */
  reason?: string;
  limit?: number;
  used?: number;
  remaining?: number;
  /** When a metered feature's period ends (absent for `lifetime`). */
  resetsAt?: string;
  /** A config feature's value. */
  value?: unknown;
  [field: string]: unknown;
}

type Route = 'initialize' | 'finalize' | 'abort' | 'check';

/** Every error the kit throws for the service's sake (never for the provider's). */
export class MeterError extends Error {
  override name = 'MeterError';
}

/**
 * The service refused (a 4xx answer): for `initialize`, the hold was refused and the provider was
 * never called (402 `INSUFFICIENT_CREDITS`, `KEY_LIMIT_EXCEEDED`, `MEMBER_LIMIT_EXCEEDED`, 429
 * `SPEND_RATE_LIMITED`, 403, 409 for a used session id, …). For `check`, a request the service would
 * not take (400, 403, 404); a feature the account may not use is an answer (`allowed: false`), not an error.
 */
export class MeterRefusedError extends MeterError {
  override name = 'MeterRefusedError';
  constructor(
    readonly route: Route,
    readonly status: number,
    /** The error body's `code` when it has one (`INSUFFICIENT_CREDITS`, …). */
    readonly code: string | undefined,
    readonly body: unknown,
  ) {
    super(`${route} refused: ${status}${code ? ` ${code}` : ''}`);
  }
}

/** The service did not answer (network errors, 5xx) after every attempt. */
export class MeterUnavailableError extends MeterError {
  override name = 'MeterUnavailableError';
  constructor(
    readonly route: Route,
    readonly attempts: number,
    override readonly cause: unknown,
  ) {
    super(`${route}: the service did not answer after ${attempts} attempts`);
  }
}

type Call = (options: { client: Client; body: never; headers: Record<string, string> }) => Promise<{
  data?: unknown;
  error?: unknown;
  response?: Response;
}>;

export type CheckBody = CheckOptions & { featureKey: string };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The three session routes, each retried with one `Idempotency-Key` per logical request. */
export class SessionsApi {
  private readonly client: Client;
  private readonly attempts: number;
  private readonly delayMs: number;

  constructor(options: { baseUrl: string; apiKey: string; fetch?: typeof fetch; retry?: RetryOptions }) {
    this.client = createAccountingClient({ baseUrl: options.baseUrl, apiKey: options.apiKey, fetch: options.fetch });
    this.attempts = Math.max(1, options.retry?.attempts ?? 5);
    this.delayMs = Math.max(0, options.retry?.delayMs ?? 200);
  }

  // The bodies are checked against the generated client's types (a contract change that breaks them
  // fails the kit's build); `orgId` is checked by the service (its DTO is another branch's).
  initialize(body: InitializeBody, key: string): Promise<MeterSession> {
    const { orgId: _orgId, ...rest } = body;
    const checked: InitializeSessionData['body'] = rest;
    return this.send('initialize', initializeSession as unknown as Call, { ...checked, ...body }, key);
  }

  finalize(body: SettleBody, key: string): Promise<MeterSettlement> {
    const checked: FinalizeSessionData['body'] = body;
    return this.send('finalize', finalizeSession as unknown as Call, checked, key);
  }

  abort(body: SettleBody, key: string): Promise<MeterSettlement> {
    const checked: AbortSessionData['body'] = body;
    return this.send('abort', abortSession as unknown as Call, checked, key);
  }

  check(body: CheckBody, key: string): Promise<FeatureCheck> {
    const checked: CheckEntitlementData['body'] = body;
    return this.send('check', checkEntitlement as unknown as Call, checked, key);
  }

  /**
   * Sends until the service answers: a network error, a 5xx (503 `OUTCOME_UNKNOWN` included) or a
   * 409 `IDEMPOTENCY_IN_FLIGHT` is retried with the same key (the service replays the first answer
   * of a request that took effect), and so is a settlement's 429 (after its `Retry-After`, at most
   * 5 s): a settlement must land. Any other 4xx is final; for `initialize` and `check` (on the
   * caller's request path) a 429 is a refusal too. A check that never got an answer is never taken
   * for a yes: it throws `MeterUnavailableError`.
   */
  private async send<T>(route: Route, call: Call, body: unknown, key: string): Promise<T> {
    let last: unknown;
    for (let attempt = 1; ; attempt++) {
      let wait = this.delayMs * 2 ** (attempt - 1);
      try {
        const result = await call({ client: this.client, body: body as never, headers: { 'Idempotency-Key': key } });
        const status = result.response?.status;
        if (status !== undefined && status < 300 && result.error === undefined) return result.data as T;
        last = result.error;
        const code = codeOf(result.error);
        const retryable =
          status === undefined ||
          status >= 500 ||
          status < 300 ||
          (status === 429 && (route === 'finalize' || route === 'abort')) ||
          (status === 409 && code === 'IDEMPOTENCY_IN_FLIGHT');
        if (!retryable) throw new MeterRefusedError(route, status, code, result.error);
        const retryAfter = Number(result.response?.headers.get('Retry-After'));
        if (status === 429 && Number.isFinite(retryAfter) && retryAfter > 0) wait = retryAfter * 1000;
      } catch (error) {
        if (error instanceof MeterRefusedError) throw error;
        last = error;
      }
      if (attempt >= this.attempts) throw new MeterUnavailableError(route, attempt, last);
      await sleep(Math.min(wait, 5_000));
    }
  }
}

function codeOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string'
    ? (error as { code: string }).code
    : undefined;
}
