import pg from 'pg';

/**
 * The SQL an app sends, as node-postgres sees it: every `Client.query` of the process (the app's
 * pool, TypeORM's transactions and named statements alike) while a recording runs. One entry per
 * statement sent, i.e. per round trip to the server.
 *
 *   const { statements } = await recordStatements(() => t.http.post(…));
 */
type Query = (this: pg.Client, config: unknown, ...rest: unknown[]) => unknown;

let recording: string[] | null = null;
let patched = false;

function textOf(config: unknown): string {
  if (typeof config === 'string') return config;
  return String((config as { text?: unknown } | null)?.text ?? config);
}

function patch(): void {
  if (patched) return;
  patched = true;
  const original = pg.Client.prototype.query as unknown as Query;
  (pg.Client.prototype as unknown as { query: Query }).query = function (this: pg.Client, config, ...rest) {
    recording?.push(textOf(config).replace(/\s+/g, ' ').trim());
    return original.call(this, config, ...rest);
  };
}

/**
 * Runs `work` (one request, typically) and answers the statements sent meanwhile. Recordings do
 * not nest; nothing else may use the database while one runs (the test's own pool included).
 */
export async function recordStatements<T>(work: () => PromiseLike<T>): Promise<{ result: T; statements: string[] }> {
  patch();
  if (recording) throw new Error('recordStatements does not nest');
  const statements: string[] = [];
  recording = statements;
  try {
    return { result: await work(), statements };
  } finally {
    recording = null;
  }
}
