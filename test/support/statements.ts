import pg from 'pg';

/**
 * The SQL an app sends, as node-postgres sees it: every `Client.query` of the process (the app's
 * pool, TypeORM's transactions and named statements alike) while a recording runs. One entry per
 * statement sent, i.e. per round trip to the server.
 *
 *   const { statements } = await recordStatements(() => t.http.post(…));
 */
type Query = (this: pg.Client, config: unknown, ...rest: unknown[]) => unknown;

/** A statement as node-postgres sent it: its text, and its name when it was prepared. */
export interface SentStatement {
  text: string;
  name?: string;
}

let recording: SentStatement[] | null = null;
let patched = false;

function sentOf(config: unknown): SentStatement {
  if (typeof config === 'string') return { text: config };
  const c = config as { text?: unknown; name?: unknown } | null;
  const text = String(c?.text ?? config);
  return typeof c?.name === 'string' ? { text, name: c.name } : { text };
}

function patch(): void {
  if (patched) return;
  patched = true;
  const original = pg.Client.prototype.query as unknown as Query;
  (pg.Client.prototype as unknown as { query: Query }).query = function (this: pg.Client, config, ...rest) {
    recording?.push(sentOf(config));
    return original.call(this, config, ...rest);
  };
}

/**
 * Runs `work` (one request, typically) and answers the statements sent meanwhile. Recordings do
 * not nest; nothing else may use the database while one runs (the test's own pool included).
 */
export async function recordStatements<T>(work: () => PromiseLike<T>): Promise<{ result: T; statements: string[] }> {
  const { result, sent } = await recordSent(work);
  return { result, statements: sent.map((s) => s.text.replace(/\s+/g, ' ').trim()) };
}

/** recordStatements, each statement as it was sent: its exact text and its prepared name. */
export async function recordSent<T>(work: () => PromiseLike<T>): Promise<{ result: T; sent: SentStatement[] }> {
  patch();
  if (recording) throw new Error('recordStatements does not nest');
  const sent: SentStatement[] = [];
  recording = sent;
  try {
    return { result: await work(), sent };
  } finally {
    recording = null;
  }
}
