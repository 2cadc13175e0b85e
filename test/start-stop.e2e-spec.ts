import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:net';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';

import {
  type FreshCopy,
  freshCopy,
  postgresUnder,
  serviceLines,
  startCopy,
  type StartedCopy,
  withTimeout,
} from './support/fresh-copy.js';

/**
 * Starting and stopping the service as a person does, from a fresh copy: `npm run start:prod` (what
 * `npm start` runs after building) in a process group of its own, stopped with SIGINT to the whole
 * group as Ctrl-C sends it. Before: Ctrl-C reached the embedded PostgreSQL too, which died first and
 * the service printed 14 warnings for 5 s; a busy port printed EADDRINUSE after ~120 JSON lines and
 * left the embedded PostgreSQL running; a bad DATABASE_URL retried three times, then printed a stack.
 */
const SECRET = 'start-stop-test-secret-that-is-long-enough-0123';

const getStatus = (port: number, urlPath: string) =>
  new Promise<number>((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path: urlPath }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    })
      .on('error', reject)
      .end();
  });

async function noPostgresUnder(dir: string): Promise<number[]> {
  // The service awaits its server's exit before it exits itself: nothing should be left at once;
  // a short grace only for /proc to catch up.
  for (let i = 0; i < 20 && postgresUnder(dir).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  return postgresUnder(dir);
}

describe('npm start, stopped and failing as a person expects', () => {
  let copy: FreshCopy;
  const started: StartedCopy[] = [];
  const start = (env: Record<string, string | undefined>) => {
    const s = startCopy(copy.dir, env);
    started.push(s);
    // A test that fails before it has stopped its service would leave it running, with its embedded
    // PostgreSQL on the copy's data directory: the next test's start would find that directory in
    // use and the one after a PostgreSQL left under the copy, three failures for one. Stopped here
    // as Ctrl-C stops it; a service that does not stop is killed.
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
    copy = await freshCopy();
  }, 120_000);
  afterAll(async () => {
    for (const s of started) {
      if (s.child.exitCode !== null || s.child.signalCode !== null) continue;
      try {
        process.kill(-s.child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await copy?.remove();
  });

  it('plain start (embedded PostgreSQL): five lines say where things are; Ctrl-C stops it in order, in a few lines, nothing left', async () => {
    const server = start({});
    const port = await withTimeout(server.port, 120_000, 'listening');
    expect(await getStatus(port, '/api/health')).toBe(200);
    const startup = serviceLines(server.output());
    // Readable text in development, not JSON; no route mapping; the API, its docs and the console named.
    expect(startup.filter((l) => l.startsWith('{'))).toEqual([]);
    expect(startup.join('\n')).not.toMatch(/Mapped \{|RouterExplorer|InstanceLoader/);
    // The gateway (off without upstreams) and the catalogue in use (its version and model count, as
    // the installed package has them) are named between the docs and the console.
    const where = startup.slice(-5).map((l) => l.replace(/^\[[\d:]+\] INFO: \[Start\] /, ''));
    expect(where).toEqual([
      `API      http://localhost:${port}/api`,
      `API docs http://localhost:${port}/api/docs (OpenAPI: http://localhost:${port}/api/docs-json)`,
      'Gateway  off (GATEWAY_UPSTREAMS sets its upstreams: docs/gateway.md)',
      expect.stringMatching(
        /^Prices {3}catalogue @pydantic\/genai-prices@\d+\.\d+\.\d+: [1-9]\d* models priced where no rule is set$/,
      ),
      `Console  http://localhost:${port}/admin (Ctrl-C stops the service)`,
    ]);
    // The five lines above and at most five before them (today four: the embedded database's two, the migrations,
    // the development secrets' warning): the start says where things are, not how it got there.
    expect(startup.length, startup.join('\n')).toBeLessThanOrEqual(10);
    const dataDir = path.join(copy.dir, 'data', 'postgres');
    expect(postgresUnder(copy.dir).length).toBeGreaterThan(0);

    server.interrupt();
    // npm, like a shell, reports its script's Ctrl-C as its own (it ends itself with SIGINT, and prints
    // nothing); the service's own lines say it stopped in order.
    expect(await withTimeout(server.exit, 15_000, 'exit after Ctrl-C')).toBe('SIGINT');
    const after = serviceLines(server.output()).slice(startup.length);
    expect(after.map((l) => l.replace(/^\[[\d:]+\] /, ''))).toEqual([
      'INFO: [Start] SIGINT received: stopping',
      'INFO: [Start] shutdown complete',
    ]);
    expect(await noPostgresUnder(copy.dir)).toEqual([]);
    expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
  }, 180_000);

  it('Ctrl-C while it is still starting: stops what has started, nothing left', async () => {
    const server = start({});
    // As soon as the embedded PostgreSQL is up (the app is still being built on it).
    await withTimeout(
      (async () => {
        while (!/embedded postgres: listening/.test(server.output()) && server.child.exitCode === null)
          await new Promise((r) => setTimeout(r, 10));
      })(),
      60_000,
      'embedded PostgreSQL up',
    );
    server.interrupt();
    expect(await withTimeout(server.exit, 15_000, 'exit after Ctrl-C')).toBe('SIGINT');
    // Stopped while starting (or, on a fast machine, just after): in order and quiet either way.
    expect(server.output()).toMatch(/SIGINT received( while starting: stopped|: stopping)/);
    expect(server.output()).not.toMatch(/\n\s+at |ERROR|lost its connection/);
    expect(await noPostgresUnder(copy.dir)).toEqual([]);
  }, 120_000);

  describe('a start that cannot work: one sentence naming the cause and the fix, no stack, no PostgreSQL left', () => {
    let busy: Server;
    let busyPort: number;
    beforeAll(async () => {
      busy = createServer();
      await new Promise<void>((resolve) => busy.listen(0, resolve));
      busyPort = (busy.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

    it('a port in use', async () => {
      const server = start({ PORT: String(busyPort) });
      expect(await withTimeout(server.exit, 30_000, 'exit')).toBe(1);
      expect(serviceLines(server.output())).toEqual([
        `Port ${busyPort} is already in use (another copy of this service, or another program): stop it, ` +
          `or start another copy on another port with a data directory of its own, for example ` +
          `PORT=${busyPort + 1} DATA_DIR=./data-${busyPort + 1} npm start.`,
      ]);
      expect(await noPostgresUnder(copy.dir)).toEqual([]);
    }, 60_000);

    const configured = { NODE_ENV: 'production', JWT_ACCESS_SECRET: SECRET, WEBHOOK_SECRET_KEY: SECRET };
    it.each([
      [
        'nothing listens there',
        () => 'postgres://postgres@127.0.0.1:1/accounting',
        'No database answers at 127.0.0.1:1 (connection refused): start PostgreSQL there or correct DATABASE_URL, ' +
          'or leave the database unset to use the embedded PostgreSQL.',
      ],
      [
        'a database that does not exist',
        () => {
          const url = new URL(inject('adminDatabaseUrl'));
          url.pathname = '/no_such_database_here';
          return url.toString();
        },
        /^The database "no_such_database_here" does not exist at [^ ]+: create it \(createdb no_such_database_here\) or correct the name in DATABASE_URL\.$/,
      ],
      [
        'a host that does not exist',
        () => 'postgres://postgres@no-such-host.invalid:5432/accounting',
        'The database host "no-such-host.invalid" is unknown: correct the host in DATABASE_URL.',
      ],
    ] as Array<[string, () => string, string | RegExp]>)(
      'a bad DATABASE_URL: %s',
      async (_name, url, sentence) => {
        const server = start({ ...configured, DATABASE_URL: url() });
        expect(await withTimeout(server.exit, 30_000, 'exit')).toBe(1);
        const lines = serviceLines(server.output());
        expect(lines).toHaveLength(1);
        if (typeof sentence === 'string') expect(lines[0]).toBe(sentence);
        else expect(lines[0]).toMatch(sentence);
      },
      60_000,
    );
  });

  it('in production the log is JSON, one object a line', async () => {
    const server = start({
      NODE_ENV: 'production',
      JWT_ACCESS_SECRET: SECRET,
      WEBHOOK_SECRET_KEY: SECRET,
      DATABASE_URL: inject('databaseUrl'),
      DB_MIGRATIONS_RUN: 'false',
      SHUTDOWN_GRACE_MS: '0',
    });
    await withTimeout(server.port, 60_000, 'listening');
    process.kill(-server.child.pid!, 'SIGTERM');
    expect(await withTimeout(server.exit, 30_000, 'exit')).toBe('SIGTERM');
    const lines = serviceLines(server.output());
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(
      lines.map((l) => JSON.parse(l).msg),
      server.output(),
    ).toContain('shutdown complete');
  }, 90_000);
});
