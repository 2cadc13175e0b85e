import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { until } from './until.js';

/**
 * `make(outDir)` once per test run, into `shared`/build: the first spec to create `shared`/lock makes
 * it, any other waits for it (`done`, or `failed` with the maker's message, which fails every spec
 * that waits). Answers the build's folder, the run's own: each caller copies what it needs of it.
 * Used for the compiled server (build-server.ts) and the frontends (frontend-build.ts), in the
 * folders of global-setup's `serverBuilds`.
 */
export async function onceARun(shared: string, what: string, make: (outDir: string) => Promise<void>): Promise<string> {
  const build = path.join(shared, 'build');
  const done = path.join(shared, 'done');
  const failed = path.join(shared, 'failed');
  await mkdir(shared, { recursive: true });
  try {
    await mkdir(path.join(shared, 'lock'));
  } catch {
    await until(`the run's ${what} is done`, () => existsSync(done) || existsSync(failed), 240_000, 100);
    if (existsSync(failed)) throw new Error(`the run's ${what} failed: ${await readFile(failed, 'utf8')}`);
    return build;
  }
  try {
    await make(build);
    await writeFile(done, '');
  } catch (error) {
    await writeFile(failed, error instanceof Error ? error.message : String(error));
    throw error;
  }
  return build;
}
