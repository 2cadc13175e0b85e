import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { inject } from 'vitest';

import { onceARun } from './run-once.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The built server in `outDir`, as `nest build` emits it: the TypeScript compiled by tsc with
 * `--noCheck` (the same files a second faster; `npm run check` has the type errors) and the assets
 * nest-cli.json lists (the email templates) copied beside it, so a server started from `outDir` finds
 * every file `dist/` has. Throws when `src/main.js` was not emitted.
 *
 * Compiled once per test run (15 s of both cores here, once asked for by eleven specs): the first
 * spec to ask compiles into the run's folder (global-setup's `serverBuilds`, onceARun()), any other waits for it,
 * and each gets a copy of its own to start, kill and break. A spec run outside the suite's global
 * setup compiles its own.
 */
export async function buildServer(outDir: string): Promise<string> {
  const folder = inject('serverBuilds');
  if (folder) {
    await cp(await onceARun(folder, 'server build', compile), outDir, { recursive: true });
  } else {
    await compile(outDir);
  }
  const mainJs = path.join(outDir, 'src', 'main.js');
  if (!existsSync(mainJs)) throw new Error(`build failed: ${mainJs} missing`);
  return mainJs;
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
