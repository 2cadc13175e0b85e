import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { buildServer } from './build-server.js';

/**
 * A fresh copy of the service as a newcomer's clone would be after `npm ci && npm run build`: the
 * built server (tsc --noCheck into `dist/`, what `nest build` emits), package.json and a node_modules
 * whose packages (and `.bin`, with the project's Node 24) link to this repository's. Built in a
 * directory of its own (never this repository's dist/, which other runs may be rebuilding).
 */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface FreshCopy {
  dir: string;
  remove(): Promise<void>;
}

/** Written in place of the copy's `build` script by `freshCopy({ npmStart: true })`. */
export const BUILD_MARK = 'build: the copy is built already';

/**
 * `mode` 0o755: reachable by the postgres system user when the tests run as root; 0o700: not.
 * `npmStart`: `npm start` runs in the copy as in a clone (its sources and scripts linked), its `build`
 * script replaced by one line saying it ran (the copy is built already: the test sees whether and
 * when `npm start` builds, without 20 s of building).
 */
export async function freshCopy(
  options: { parent?: string; mode?: number; npmStart?: boolean } = {},
): Promise<FreshCopy> {
  const dir = await mkdtemp(path.join(options.parent ?? tmpdir(), 'accounting-copy-'));
  await chmod(dir, options.mode ?? 0o755);
  await buildServer(path.join(dir, 'dist'));
  if (options.npmStart) {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    pkg.scripts.build = `echo '${BUILD_MARK}'`;
    await writeFile(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
    for (const linked of ['src', 'scripts', 'tsconfig.json'])
      await symlink(path.join(ROOT, linked), path.join(dir, linked));
  } else {
    await copyFile(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  }
  const modules = path.join(dir, 'node_modules');
  await mkdir(modules);
  for (const entry of await readdir(path.join(ROOT, 'node_modules'))) {
    if (entry === '.cache' || entry === '.package-lock.json') continue;
    await symlink(path.join(ROOT, 'node_modules', entry), path.join(modules, entry));
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface StartedCopy {
  child: ChildProcess;
  output: () => string;
  /**
   * The port from the first start-up line (`API      http://localhost:<port>/api`), once the start-up
   * banner has been read whole (up to its last line, `Console  …`); rejects on exit.
   */
  port: Promise<number>;
  /** npm's exit code, or the signal that ended it (npm ends itself with the signal its script got). */
  exit: Promise<number | NodeJS.Signals | null>;
  /** SIGINT to its whole process group, as Ctrl-C in a terminal sends it. */
  interrupt(): void;
}

/**
 * `npm run start:prod` (what `npm start` runs once it has built: `node dist/src/main.js`), or the
 * npm `script` named, in `dir`, in a process group of its own (a terminal's foreground job), with the
 * test's environment minus what picks a database, a mode or secrets, plus `env`.
 */
export function startCopy(dir: string, env: Record<string, string | undefined>, script = 'start:prod'): StartedCopy {
  const {
    DATABASE_URL: _d,
    DB_HOST: _h,
    NODE_ENV: _n,
    JWT_ACCESS_SECRET: _j,
    WEBHOOK_SECRET_KEY: _w,
    INTERNAL_API_KEY: _i,
    LOG_LEVEL: _l,
    LOG_FORMAT: _f,
    DATA_DIR: _dd,
    ...base
  } = process.env;
  let output = '';
  const child = spawn('npm', ['run', '--silent', script], {
    cwd: dir,
    env: { ...base, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  // 'close', not 'exit': once every process holding its output (npm, and the service npm started,
  // which may outlive npm by a moment) is gone and all of it has been read.
  const exit = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.on('close', (code, signal) => resolve(code ?? signal)),
  );
  const port = new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      // The service writes its banner's three lines one write each, and a read of the pipe usually
      // ends after the first: resolving there left a test that reads the banner to count on the
      // other two having been read by the time it looks.
      const match = /API\s+http:\/\/localhost:(\d+)\/api/.exec(output);
      if (match && /Console\s+http:\/\/localhost:\d+\/admin.*\n/.test(output.slice(match.index)))
        resolve(Number(match[1]));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exit.then((code) => reject(new Error(`exited (${code}) before listening:\n${output}`)));
  });
  port.catch(() => undefined);
  return {
    child,
    exit,
    port,
    output: () => output,
    interrupt: () => process.kill(-child.pid!, 'SIGINT'),
  };
}

/** The PostgreSQL servers running on a data directory under `dir` (their command line names it). */
export function postgresUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.some((a) => a.endsWith('/postgres')) && argv.some((a) => a.startsWith(dir))) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** The output's lines other than npm's own (warnings about this machine's npm configuration). */
export const serviceLines = (output: string) =>
  output
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l && !l.startsWith('npm warn'));

export const withTimeout = <T>(promise: Promise<T>, ms: number, what: string) =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)),
  ]);
