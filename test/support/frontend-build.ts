import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { inject } from 'vitest';

import { onceARun } from './run-once.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Each frontend and the Vite configs that make it, in order, into one folder. */
const CONFIGS = {
  console: ['console/vite.config.ts'],
  portal: ['console/vite.portal.config.ts', 'console/vite.embed.config.ts'],
} as const;

export type Frontend = keyof typeof CONFIGS;

/**
 * A fresh build of a frontend (the admin console, or the portal with embed.js) in a new temporary
 * folder named `prefix…`, the caller's own to serve and remove.
 *
 * Built once per test run (a few seconds of both cores, once asked for by eighteen specs for the
 * console and ten for the portal): the first spec to ask builds it into the run's folder
 * (global-setup's `serverBuilds`, onceARun()), any other waits for it, and each gets a copy of its own. So a test
 * never sees a bundle older than the run. A spec run outside the suite's global setup builds its own.
 */
export async function buildFrontend(frontend: Frontend, prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  try {
    const folder = inject('serverBuilds');
    if (folder) {
      const shared = await onceARun(path.join(folder, frontend), `${frontend} build`, (out) => build(frontend, out));
      await cp(shared, dir, { recursive: true });
    } else {
      await build(frontend, dir);
    }
    if (!existsSync(path.join(dir, 'index.html'))) throw new Error(`the ${frontend} build made no index.html`);
    return dir;
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function build(frontend: Frontend, outDir: string): Promise<void> {
  const vite = path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  for (const config of CONFIGS[frontend]) {
    const { stderr } = await promisify(execFile)(
      process.execPath,
      [vite, 'build', '--config', config, '--outDir', outDir, '--logLevel', 'warn'],
      { cwd: ROOT },
    );
    if (stderr) process.stderr.write(stderr);
  }
}
