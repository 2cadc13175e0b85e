import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import type { PartJob, PartReply } from './part-writer.child.js';

/** The child's file beside this one: built (`.js`), or the source (`.ts`) where the service runs from it. */
const CHILD = fileURLToPath(
  new URL(`./part-writer.child${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url),
);

/**
 * Runs one part's work in the part writer (src/exports/part-writer.child.ts), a child process at the
 * lowest CPU priority: answers the rows it copied and each day's rows in its Parquet files, or rejects
 * with its error (a failed COPY, a lost database, the child ending without an answer).
 */
export function writePartInChild(job: PartJob): Promise<{ rows: number; days: { day: string; n: number }[] }> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [], {
      execArgv: [],
      serialization: 'json',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let reply: PartReply | null = null;
    child.once('message', (message: PartReply) => {
      reply = message;
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (reply?.ok) resolve({ rows: reply.rows, days: reply.days });
      else if (reply) reject(new Error(reply.error));
      else reject(new Error(`the part writer ended without an answer (${signal ?? `exit ${code}`})`));
    });
    child.send(job);
  });
}
