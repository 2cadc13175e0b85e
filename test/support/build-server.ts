import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { inject } from 'vitest';

import { until } from './until.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The built server in `outDir`, as `nest build` emits it: the TypeScript compiled by tsc with
 * `--noCheck` (the same files a second faster; `npm run check` has the type errors) and the assets
 * nest-cli.json lists (the email templates) copied beside it, so a server started from `outDir` finds
 * every file `dist/` has. Throws when `src/main.js` was not emitted.
 *
 * Compiled once per test run (15 s of both cores here, once asked for by eleven specs): the first
 * spec to ask compiles into the run's folder (global-setup's `serverBuilds`), any other waits for it,
 * and each gets a copy of its own to start, kill and break. A spec run outside the suite's global
 * setup compiles its own.
 */
export async function buildServer(outDir: string): Promise<string> {
  const folder = inject('serverBuilds');
  if (folder) {
    await sharedBuild(folder);
    await cp(path.join(folder, 'build'), outDir, { recursive: true });
  } else {
    await compile(outDir);
  }
  const mainJs = path.join(outDir, 'src', 'main.js');
  if (!existsSync(mainJs)) throw new Error(`build failed: ${mainJs} missing`);
  return mainJs;
}

/** The run's build in `folder`/build: the spec that makes `folder`/lock first compiles it. */
async function sharedBuild(folder: string): Promise<void> {
  const done = path.join(folder, 'done');
  try {
    await mkdir(path.join(folder, 'lock'));
  } catch {
    await until("the run's server build is done", () => existsSync(done), 240_000, 200);
    return;
  }
  await compile(path.join(folder, 'build')).finally(() => writeFile(done, ''));
}

async function compile(outDir: string): Promise<void> {
  await promisify(execFile)(
    process.execPath,
    [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir, '--noCheck'],
    { cwd: ROOT },
  ).catch(() => undefined);
  const cli = JSON.parse(await readFile(path.join(ROOT, 'nest-cli.json'), 'utf8')) as {
    sourceRoot: string;
    compilerOptions?: { assets?: { include: string }[] };
  };
  for (const asset of cli.compilerOptions?.assets ?? []) {
    // "notifications/templates/*.hbs": the folder, copied whole (nest-cli keeps the path under src/).
    const folder = path.dirname(asset.include);
    await cp(path.join(ROOT, cli.sourceRoot, folder), path.join(outDir, cli.sourceRoot, folder), { recursive: true });
  }
}
