/**
 * Recognising a lost or unreachable database, however node-postgres and TypeORM wrap it. Shared by
 * the transaction runner (which decides whether a change may have committed) and the exception
 * filter (which answers 503 instead of 500).
 */
// 25P03 and 57P05: the server ended an idle (in-transaction) session; 57P04: its database was dropped.
const LOST_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', '57P01', '57P02', '57P04', '57P05', '25P03']);
// Refused while connecting, before anything was sent: 53300 too many connections, 08001 and 08004
// could not establish / rejected the connection. 25006: a write reached a node that has turned
// read-only (a demoted primary behind the proxy); it was refused, so nothing took effect, and the
// connection is dropped so that the next one goes where writes go.
const UNREACHABLE_CODES = new Set([
  '25006',
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  '57P03',
  '53300',
  '08001',
  '08004',
]);
/** TypeORM's errors for a query runner whose connection is already gone. */
const RELEASED_NAMES = new Set(['QueryRunnerProviderAlreadyReleasedError', 'QueryRunnerAlreadyReleasedError']);
const LOST_MESSAGE =
  /Connection terminated|Client has encountered a connection error|Client was closed and is not queryable|terminating connection|server closed the connection|Cannot use a pool after calling end/i;
// pg-pool's connectionTimeoutMillis wraps whatever the half-made connection said in the second one.
const UNREACHABLE_MESSAGE =
  /timeout exceeded when trying to connect|connect ECONNREFUSED|Connection terminated due to connection timeout/i;

export type ConnectionProblem = 'unreachable' | 'lost';

function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  for (let i = 0; i < 5 && current instanceof Error; i++) {
    chain.push(current);
    const next = (current as { driverError?: unknown }).driverError ?? (current as { cause?: unknown }).cause;
    if (next === current) break;
    current = next;
  }
  return chain;
}

/**
 * `unreachable`: no connection could be had, so nothing was sent. `lost`: the connection broke
 * during work, so a statement or COMMIT in flight may or may not have taken effect. `null`: not a
 * connection problem.
 */
export function connectionProblem(error: unknown): ConnectionProblem | null {
  let lost = false;
  for (const e of causes(error)) {
    const err = e as Error & { code?: unknown };
    const code = typeof err.code === 'string' ? err.code : '';
    if (UNREACHABLE_CODES.has(code) || UNREACHABLE_MESSAGE.test(err.message)) return 'unreachable';
    if (LOST_CODES.has(code) || code.startsWith('08') || RELEASED_NAMES.has(err.name) || LOST_MESSAGE.test(err.message))
      lost = true;
  }
  return lost ? 'lost' : null;
}
