import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';

import {
  BUILD_MARK,
  type FreshCopy,
  freshCopy,
  postgresUnder,
  ROOT,
  serviceLines,
  startCopy,
  type StartedCopy,
  withTimeout,
} from './support/fresh-copy.js';
import { freePort } from './support/redis-server.js';

/**
 * `npm start` itself, as systemd, Docker and a person at a terminal use it. Before: the script ran
 * `node` under `sh` under npm, so a SIGTERM to npm (what systemd and Docker send) left the service
 * and its embedded PostgreSQL running, orphaned, and a SIGINT to npm's PID alone did nothing; every
 * start that failed on its configuration rebuilt first (16–26 s before the one-line reason); the
 * port-in-use advice (`PORT=3002 npm start`) then failed on the data directory being in use.
 */
const SECRET = 'npm-start-test-secret-that-is-long-enough-0123';

/** The processes whose parent is `pid`, each with its command line (node names its thread MainThread). */
function childrenOf(pid: number): { pid: number; argv: string[] }[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((child) => ({
        pid: Number(child),
        argv: readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').filter(Boolean),
      }));
  } catch {
    return [];
  }
}

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(statusOf(pid));
function statusOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return '';
  }
}

/** Waits up to `ms` for `done`, polling; true when it came. */
async function within(ms: number, done: () => boolean): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100)))
    if (done()) return true;
  return done();
}

describe('npm start: signals reach the service; a start that cannot work says so before building', () => {
  let copy: FreshCopy;
  const started: StartedCopy[] = [];
  const start = (env: Record<string, string | undefined>, script = 'start') => {
    const s = startCopy(copy.dir, env, script);
    started.push(s);
    onTestFinished(async () => {
      if (s.child.exitCode !== null || s.child.signalCode !== null) return;
      try {
        s.interrupt();
        await withTimeout(s.exit, 20_000, 'stopped after its test');
      } catch {
        try {
          process.kill(-s.child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    });
    return s;
  };

  beforeAll(async () => {
    copy = await freshCopy({ npmStart: true });
  }, 120_000);
  afterAll(async () => {
    for (const s of started) {
      try {
        process.kill(-s.child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await copy?.remove();
  });

  it('the start script ends in `exec node`: npm runs the service itself, no shell between them', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.start).toMatch(/&& exec node dist\/src\/main\.js$/);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s to npm alone (as systemd and Docker send it): the service and its embedded PostgreSQL stop within 10 s',
    async (signal) => {
      // What is timed is the signal's way to the service, not SIGTERM's drain (SHUTDOWN_GRACE_MS, 5 s
      // of serving on by default: process.e2e-spec's subject), which would be most of the 10 s.
      const server = start({ SHUTDOWN_GRACE_MS: '0' });
      await withTimeout(server.port, 120_000, 'listening');
      expect(server.output()).toContain(BUILD_MARK);
      const npmPid = server.child.pid!;
      const children = childrenOf(npmPid);
      expect(children.map((c) => [path.basename(c.argv[0]), ...c.argv.slice(1)])).toEqual([
        ['node', 'dist/src/main.js'],
      ]);
      const service = children[0].pid;
      expect(postgresUnder(copy.dir).length).toBeGreaterThan(0);

      process.kill(npmPid, signal);
      const stopped = await within(10_000, () => !alive(service) && postgresUnder(copy.dir).length === 0);
      expect(stopped, server.output()).toBe(true);
      expect(serviceLines(server.output()).map((l) => l.replace(/^\[[\d:]+\] /, ''))).toContain(
        'INFO: [Start] shutdown complete',
      );
      await withTimeout(server.exit, 10_000, 'npm exits');
      expect(existsSync(path.join(copy.dir, 'data', 'postgres', 'postmaster.pid'))).toBe(false);
    },
    180_000,
  );

  describe('a start that cannot work: its one reason, before any build', () => {
    let busy: Server;
    let busyPort: number;
    beforeAll(async () => {
      busy = createServer();
      await new Promise<void>((resolve) => busy.listen(0, resolve));
      busyPort = (busy.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

    it('a bad variable', async () => {
      const server = start({ NODE_ENV: 'production', JWT_ACCESS_SECRET: SECRET, LOG_LEVEL: 'loud' });
      expect(await withTimeout(server.exit, 20_000, 'exit')).toBe(1);
      const lines = serviceLines(server.output());
      expect(lines[0]).toBe('Invalid configuration:');
      expect(lines.join('\n')).toMatch(/LOG_LEVEL must be one of/);
      expect(lines.join('\n')).toMatch(/WEBHOOK_SECRET_KEY/);
      expect(server.output()).not.toContain(BUILD_MARK);
      expect(server.output()).not.toMatch(/\n\s+at /);
    }, 60_000);

    it('a port in use: the advice names a data directory of its own too', async () => {
      const server = start({ PORT: String(busyPort) });
      expect(await withTimeout(server.exit, 20_000, 'exit')).toBe(1);
      expect(serviceLines(server.output())).toEqual([
        `Port ${busyPort} is already in use (another copy of this service, or another program): stop it, ` +
          `or start another copy on another port with a data directory of its own, for example ` +
          `PORT=${busyPort + 1} DATA_DIR=./data-${busyPort + 1} npm start.`,
      ]);
      expect(postgresUnder(copy.dir)).toEqual([]);
    }, 60_000);

    it('a bad DATABASE_URL', async () => {
      const server = start({
        NODE_ENV: 'production',
        JWT_ACCESS_SECRET: SECRET,
        WEBHOOK_SECRET_KEY: SECRET,
        DATABASE_URL: 'postgres://postgres@127.0.0.1:1/accounting',
      });
      expect(await withTimeout(server.exit, 20_000, 'exit')).toBe(1);
      expect(serviceLines(server.output())).toEqual([
        'No database answers at 127.0.0.1:1 (connection refused): start PostgreSQL there or correct DATABASE_URL, ' +
          'or leave the database unset to use the embedded PostgreSQL.',
      ]);
    }, 60_000);

    it('the data directory in use by a running copy, started on another port as the advice said', async () => {
      const first = start({}, 'start:prod');
      await withTimeout(first.port, 120_000, 'first copy listening');
      // A port free now: busyPort + 1 is even, and the kernel gives even ports to outgoing
      // connections, so another spec's connection could hold it and the port check would answer first.
      const port = await freePort();
      const second = start({ PORT: String(port) });
      expect(await withTimeout(second.exit, 20_000, 'exit')).toBe(1);
      const lines = serviceLines(second.output());
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(
          `^The data directory \\./data is in use by another running copy of this service \\(its PostgreSQL, pid \\d+\\): ` +
            `stop that copy, or give this one a data directory of its own, for example ` +
            `PORT=${port} DATA_DIR=\\./data-${port} npm start\\.$`,
        ),
      );
      expect(second.output()).not.toContain(BUILD_MARK);

      // The advice works: its own data directory, its own port.
      const third = start({ PORT: '0', DATA_DIR: './data-other' });
      await withTimeout(third.port, 120_000, 'third copy listening');
      expect(third.output()).toContain(BUILD_MARK);
    }, 300_000);
  });
});
