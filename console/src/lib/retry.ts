/**
 * When a read the console or the portal asked for is asked again (TanStack Query's `retry` and
 * `retryDelay`). A failure without an answer (the network, the service restarting) twice more. An
 * answer with a status does not change by asking again (a 401 signs out: api/session.ts), except a
 * 429: the service said when to come back (`retryAfter` in its body, as its Retry-After header: a
 * heavy read refused while HEAVY_READS_CONCURRENCY others run; a rate limit's, whose body names no
 * time, waits the backoff), so the read is asked again then, up to three times, and the page stays
 * loading meanwhile instead of showing the refusal.
 */
const BUSY_TRIES = 3;
const LONGEST_WAIT_MS = 30_000;

interface Answered {
  statusCode?: number;
  retryAfter?: number;
}

const answered = (error: unknown): Answered => (error ?? {}) as Answered;

export function retryRead(failures: number, error: unknown): boolean {
  const { statusCode } = answered(error);
  if (statusCode === undefined) return failures < 2;
  return statusCode === 429 && failures < BUSY_TRIES;
}

export function retryReadDelay(failures: number, error: unknown): number {
  const { statusCode, retryAfter } = answered(error);
  if (statusCode === 429 && typeof retryAfter === 'number' && retryAfter > 0)
    return Math.min(retryAfter * 1000, LONGEST_WAIT_MS);
  return Math.min(1000 * 2 ** failures, LONGEST_WAIT_MS);
}
