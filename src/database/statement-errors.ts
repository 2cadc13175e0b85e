import { QueryFailedError } from 'typeorm';

import { connectionProblem } from '../common/errors/connection-errors.js';

/**
 * Whether a statement's error left nothing written: the server answered it (an SQLSTATE, the
 * statement rolled back), not a connection lost with the statement or its commit in flight. What a
 * coalescer (src/database/coalescer.ts) asks before it sends a failed statement's items again alone.
 */
export function statementRolledBack(error: unknown): boolean {
  if (!(error instanceof QueryFailedError) || connectionProblem(error)) return false;
  const code = (error.driverError as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}
