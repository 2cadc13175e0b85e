import { type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { DEVELOPMENT_JWT_SECRET } from '../src/config/app-config.js';
import { uniqueId } from './support/app.js';
import { buildServer } from './support/build-server.js';
import { type ServiceProcess, spawnService } from './support/service-process.js';

/**
 * The built server as production runs it (`node dist/src/main.js`): configuration refusals, graceful
 * shutdown and the zero-setup embedded database. It is compiled into a private directory inside the
 * repository (so node_modules resolves) instead of dist/, which other runs may be rebuilding.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = path.join(root, 'node_modules', '.cache', `e2e-build-${process.pid}`);
const mainJs = path.join(outDir, 'src', 'main.js');
const SECRET = 'process-test-secret-that-is-long-enough-0123';

function startServer(env: Record<string, string | undefined>): ServiceProcess {
  return spawnService(mainJs, root, { WEBHOOK_SECRET_KEY: SECRET, ...env });
}

const withTimeout = <T>(promise: Promise<T>, ms: number, what: string) =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)),
  ]);

const canConnect = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

const getJson = (port: number, urlPath: string, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; body: any }>((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path: urlPath, headers }, (res) => {
      let data = '';
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data ? JSON.parse(data) : null }));
    })
      .on('error', reject)
      .end();
  });

describe('the built server', () => {
  const running: ChildProcess[] = [];
  beforeAll(async () => {
    // main.js is what matters here, not type errors (npm run check has those): --noCheck emits the
    // same files without checking, a second faster.
    await buildServer(outDir);
  }, 120_000);
  afterAll(async () => {
    for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
    await rm(outDir, { recursive: true, force: true });
  });

  describe('refuses to start without proper secrets', () => {
    it.each([
      ['missing', undefined],
      ['too short', 'x'.repeat(31)],
    ])('%s → exit code 1, message naming the variable', async (_name, secret) => {
      const server = startServer({
        NODE_ENV: 'production',
        JWT_ACCESS_SECRET: secret,
        DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      });
      running.push(server.child);
      expect(await withTimeout(server.exit, 20_000, 'exit')).toBe(1);
      expect(server.output()).toMatch(/JWT_ACCESS_SECRET/);
    });

    // The development secrets are printed in the repository: only the embedded database in
    // development may use them. Before, each of these started and accepted tokens anyone could mint.
    it.each([
      ['NODE_ENV unset with a DATABASE_URL', {}, /JWT_ACCESS_SECRET is required/],
      ['NODE_ENV=prod', { NODE_ENV: 'prod' }, /NODE_ENV must be one of development, test, production/],
      ['NODE_ENV=Production', { NODE_ENV: 'Production' }, /NODE_ENV must be one of/],
      ['NODE_ENV=staging', { NODE_ENV: 'staging' }, /NODE_ENV must be one of/],
      ['NODE_ENV=test with a DATABASE_URL', { NODE_ENV: 'test' }, /JWT_ACCESS_SECRET is required/],
    ] as Array<[string, Record<string, string>, RegExp]>)(
      'no secrets, %s → exit code 1, one message, no stack',
      async (_name, env, message) => {
        const server = startServer({
          ...env,
          WEBHOOK_SECRET_KEY: undefined,
          DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
        });
        running.push(server.child);
        expect(await withTimeout(server.exit, 20_000, 'exit')).toBe(1);
        expect(server.output()).toMatch(message);
        expect(server.output()).not.toMatch(/\n\s+at /);
      },
    );

    it('a bad value of another variable also stops start-up naming it', async () => {
      const server = startServer({ NODE_ENV: 'production', JWT_ACCESS_SECRET: SECRET, THROTTLE_LIMIT: 'lots' });
      running.push(server.child);
      expect(await withTimeout(server.exit, 20_000, 'exit')).toBe(1);
      expect(server.output()).toMatch(/THROTTLE_LIMIT/);
    });
  });

  it('SIGTERM: stops accepting, lets the in-flight request finish with 200, exits 0', async () => {
    const server = startServer({
      NODE_ENV: 'production',
      JWT_ACCESS_SECRET: SECRET,
      DATABASE_URL: inject('databaseUrl'),
      DB_MIGRATIONS_RUN: 'false',
      // No drain period: this checks what happens once the server stops accepting.
      SHUTDOWN_GRACE_MS: '0',
    });
    running.push(server.child);
    const port = await withTimeout(server.port, 30_000, 'listening');
    const sub = uniqueId('shutdown');
    const accessToken = jwt.sign({ sub, type: 'access' }, SECRET, { algorithm: 'HS256', expiresIn: 300 });

    // An in-flight request: its body arrives slowly, so it is still being received at SIGTERM.
    const body = JSON.stringify({ padding: 'x'.repeat(64) });
    let req!: ReturnType<typeof httpRequest>;
    const response = new Promise<{ status: number; body: any }>((resolve, reject) => {
      req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'GET',
          path: '/api/users/me',
          headers: {
            Authorization: `Bearer ${accessToken}`,
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(body),
          },
        },
        (res) => {
          let data = '';
          res.on('data', (c) => (data += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 10));
    });
    await new Promise((r) => setTimeout(r, 200));

    server.child.kill('SIGTERM');
    await withTimeout(
      (async () => {
        while (!/SIGTERM received/.test(server.output())) await new Promise((r) => setTimeout(r, 20));
      })(),
      5000,
      'shutdown log',
    );
    // New connections are refused while the in-flight request is still open.
    let refused = false;
    for (let i = 0; i < 50 && !refused; i++) {
      refused = !(await canConnect(port));
      if (!refused) await new Promise((r) => setTimeout(r, 50));
    }
    expect(refused).toBe(true);
    expect(server.child.exitCode).toBeNull();

    req.end(body.slice(10));
    const res = await withTimeout(response, 10_000, 'in-flight response');
    expect(res.status).toBe(200);
    expect(res.body.userId).toBe(sub);
    // The client keeps its connection alive; the server closes it once idle instead of waiting.
    expect(await withTimeout(server.exit, 3_000, 'exit soon after the last response')).toBe(0);
    expect(server.output()).toMatch(/shutdown complete/);
  }, 60_000);

  it('SIGTERM with a drain: a keep-alive client sending steadily sees every request answered, none reset', async () => {
    const server = startServer({
      NODE_ENV: 'production',
      JWT_ACCESS_SECRET: SECRET,
      DATABASE_URL: inject('databaseUrl'),
      DB_MIGRATIONS_RUN: 'false',
      SHUTDOWN_GRACE_MS: '1500',
      THROTTLE_LIMIT: '1000000',
    });
    running.push(server.child);
    const port = await withTimeout(server.port, 30_000, 'listening');
    const accessToken = jwt.sign({ sub: uniqueId('drain'), type: 'access' }, SECRET, {
      algorithm: 'HS256',
      expiresIn: 300,
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 2 });
    const outcomes: {
      path: string;
      status?: number;
      connection?: string;
      error?: string;
      afterSignal: boolean;
      afterDrainSeen: boolean;
    }[] = [];
    let signalled = false;
    let drainSeen = false; // a readiness probe answered 503: the server has begun draining
    const send = (urlPath: string) =>
      new Promise<void>((resolve) => {
        const afterSignal = signalled;
        const afterDrainSeen = drainSeen;
        httpRequest(
          { host: '127.0.0.1', port, path: urlPath, agent, headers: { Authorization: `Bearer ${accessToken}` } },
          (res) => {
            res.resume();
            res.on('end', () => {
              if (urlPath === '/api/health/ready' && res.statusCode === 503) drainSeen = true;
              outcomes.push({
                path: urlPath,
                status: res.statusCode,
                connection: res.headers.connection,
                afterSignal,
                afterDrainSeen,
              });
              resolve();
            });
          },
        )
          .on('error', (error: NodeJS.ErrnoException) => {
            outcomes.push({ path: urlPath, error: error.code ?? error.message, afterSignal, afterDrainSeen });
            resolve();
          })
          .end();
      });
    // Two clients, each sending its next request as soon as the previous one is answered, and probing
    // readiness every 4th request like a load balancer: after 3 failed probes it sends no more.
    const client = async () => {
      let failedProbes = 0;
      for (let i = 0; server.child.exitCode === null && failedProbes < 3 && i < 100_000; i++) {
        const probe = i % 4 === 0;
        await send(probe ? '/api/health/ready' : '/api/users/me');
        if (probe && outcomes.at(-1)?.status === 503) failedProbes++;
      }
    };
    const clients = [client(), client()];
    while (outcomes.filter((o) => o.status === 200).length < 20) await new Promise((r) => setImmediate(r));
    server.child.kill('SIGTERM');
    signalled = true;
    expect(await withTimeout(server.exit, 30_000, 'exit')).toBe(0);
    await Promise.all(clients);
    agent.destroy();

    const reset = outcomes.filter((o) => o.error);
    expect(reset).toEqual([]);
    // Sent after the signal: served (readiness may still say 200 until the process has handled SIGTERM).
    const during = outcomes.filter((o) => o.afterSignal);
    expect(during.every((o) => o.status === 200 || (o.path === '/api/health/ready' && o.status === 503))).toBe(true);
    // Sent once the drain was visible: served, readiness 503, and no more keep-alive.
    const draining = outcomes.filter((o) => o.afterDrainSeen);
    expect(draining.some((o) => o.path === '/api/users/me' && o.status === 200)).toBe(true);
    expect(draining.filter((o) => o.path === '/api/health/ready').every((o) => o.status === 503)).toBe(true);
    expect(draining.every((o) => o.connection === 'close')).toBe(true);
  }, 60_000);

  it('with no database configured: starts an embedded PostgreSQL, serves, stops it on SIGTERM, restarts on the same data', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'accounting-embedded-'));
    await chmod(dir, 0o755); // the server runs as the postgres user when we are root
    const dataDir = path.join(dir, 'data');
    const userToken = jwt.sign({ sub: 'alice', type: 'access', role: 'admin' }, DEVELOPMENT_JWT_SECRET, {
      algorithm: 'HS256',
      expiresIn: 300,
    });
    try {
      for (const round of [1, 2]) {
        if (round === 2) {
          // A crash leaves a stale postmaster.pid behind: the next start must cope.
          await writeFile(path.join(dataDir, 'postgres', 'postmaster.pid'), '999999\n');
        }
        // Stopped without the drain (SHUTDOWN_GRACE_MS's 5 s of serving on, the test above's subject).
        const server = startServer({ DATA_DIR: dataDir, SHUTDOWN_GRACE_MS: '0' });
        running.push(server.child);
        const port = await withTimeout(server.port, 90_000, `embedded start (round ${round})`);
        if (round === 1) expect(server.output()).toMatch(/JWT_ACCESS_SECRET is not set/);
        const me = await getJson(port, '/api/users/me', { Authorization: `Bearer ${userToken}` });
        expect(me).toMatchObject({ status: 200, body: { userId: 'alice', role: 'admin' } });
        expect((await getJson(port, '/api/health/ready')).status).toBe(200);
        server.child.kill('SIGTERM');
        expect(await withTimeout(server.exit, 30_000, 'exit')).toBe(0);
        expect(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
