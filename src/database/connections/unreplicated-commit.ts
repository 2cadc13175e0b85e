import { OutcomeUnknownError } from '../../common/errors/domain-error.js';

/** What a node-postgres client emits for a NOTICE or WARNING the server sends. */
interface NoticeSource {
  on(event: 'notice', listener: (notice: { code?: string }) => void): unknown;
  removeListener(event: 'notice', listener: (notice: { code?: string }) => void): unknown;
}

/**
 * SQLSTATE of a WARNING raised without a code of its own. The one such warning a COMMIT (or a
 * statement that commits by itself) can raise here is PostgreSQL's "canceling wait for synchronous
 * replication due to user request — the transaction has already committed locally, but might not
 * have been replicated to the standby": a cancel request (pg_cancel_backend, say, on sessions stuck
 * while the standby is away) ended the wait for the synchronous standby, and PostgreSQL reports the
 * commit as done. (statement_timeout never ends that wait: PostgreSQL stops the statement's timer
 * before it commits.) The service's SQL raises no warnings. Matched by code, not by text, which
 * follows the server's lc_messages.
 */
const PLAIN_WARNING = '01000';

/**
 * Runs `commit` (a COMMIT, or a statement that commits by itself) on `client` and refuses to call it
 * a success when PostgreSQL cancelled its wait for the synchronous standby: the change is on this
 * node only, and a failover now would take it back. Answered as OUTCOME_UNKNOWN instead: a retry with
 * the same Idempotency-Key replays it only once a standby has it (src/idempotency), so nothing is
 * acknowledged that the synchronous standby has not confirmed (docs/operations.md).
 */
export async function commitReplicated<T>(client: NoticeSource | undefined, commit: () => Promise<T>): Promise<T> {
  if (!client) return commit();
  let cancelledWait = false;
  const onNotice = (notice: { code?: string }) => {
    if (notice.code === PLAIN_WARNING) cancelledWait = true;
  };
  client.on('notice', onNotice);
  let result: T;
  try {
    result = await commit();
  } finally {
    client.removeListener('notice', onNotice);
  }
  if (cancelledWait) {
    throw new OutcomeUnknownError(
      new Error('committed locally, but its wait for the synchronous standby was cancelled'),
    );
  }
  return result;
}
