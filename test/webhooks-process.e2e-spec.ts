import { type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildServer } from './support/build-server.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';
import { type ServiceProcess, spawnService } from './support/service-process.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

/**
 * At least once across a crash: the built server (`node dist/src/main.js`) is SIGKILLed between the
 * commit of an event and its delivery, and a restarted server delivers it. Compiled into a private
 * directory, as test/process.e2e-spec.ts does.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = path.join(root, 'node_modules', '.cache', `e2e-webhooks-build-${process.pid}`);
const mainJs = path.join(outDir, 'src', 'main.js');
const SECRET = 'webhooks-process-secret-that-is-long-enough-0123';

describe('webhook delivery across a SIGKILL', () => {
  let own: OwnDatabase;
  let receiver: WebhookReceiver;
  const running: ChildProcess[] = [];
  const admin = {
    Authorization: `Bearer ${jwt.sign({ sub: 'wh-admin', role: 'admin', type: 'access' }, SECRET, { algorithm: 'HS256', expiresIn: 600 })}`,
  };

  function startServer(env: Record<string, string>): ServiceProcess {
    const server = spawnService(mainJs, root, {
      // Not production: the receiver is on 127.0.0.1, and private webhook URLs are refused in production.
      NODE_ENV: 'test',
      JWT_ACCESS_SECRET: SECRET,
      WEBHOOK_SECRET_KEY: SECRET,
      DATABASE_URL: own.url,
      DB_MIGRATIONS_RUN: 'false',
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      SHUTDOWN_GRACE_MS: '0',
      ...env,
    });
    running.push(server.child);
    return server;
  }

  const call = async (port: number, method: string, urlPath: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, {
      method,
      headers: { ...admin, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  };

  const deliveryOf = async (eventId: string) =>
    (await own.db.query(`SELECT status, attempts FROM webhook_deliveries WHERE event_id = $1`, [eventId])).rows[0];

  beforeAll(async () => {
    const [database] = await Promise.all([ownDatabase('wh_process'), buildServer(outDir)]);
    own = database;
    receiver = await WebhookReceiver.start();
  }, 180_000);
  afterAll(async () => {
    for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
    await receiver?.close();
    await own?.drop();
    await rm(outDir, { recursive: true, force: true });
  });

  it('killed after the commit, before any attempt: the restarted server delivers it', async () => {
    const first = startServer({ WEBHOOK_WORKER_ENABLED: 'false' });
    const port = await first.port;
    const hook = await call(port, 'POST', '/api/webhooks', { url: receiver.url('/before'), events: ['webhook.test'] });
    expect(hook.status).toBe(201);
    const test = await call(port, 'POST', `/api/webhooks/${hook.body.id}/test`);
    expect(test.status).toBe(202);
    first.child.kill('SIGKILL');
    await first.exit;
    expect(await deliveryOf(test.body.eventId)).toEqual({ status: 'pending', attempts: 0 });

    const second = startServer({});
    await second.port;
    const got = await receiver.waitFor((r) => r.event.id === test.body.eventId, 30_000);
    expect(WebhookReceiver.verify(hook.body.secret, got)).toEqual(got.event);
    second.child.kill('SIGKILL');
    await second.exit;
  }, 90_000);

  it('killed during the attempt: after the lease the restarted server sends it again, same webhook-id', async () => {
    let calls = 0;
    receiver.respond = (r) => (r.path === '/during' && calls++ === 0 ? 'hang' : { status: 200 });
    const first = startServer({});
    const port = await first.port;
    const hook = await call(port, 'POST', '/api/webhooks', { url: receiver.url('/during'), events: ['webhook.test'] });
    const test = await call(port, 'POST', `/api/webhooks/${hook.body.id}/test`);
    expect(test.status).toBe(202);
    // The first attempt has reached the receiver, which does not answer: kill the server now.
    await receiver.waitFor((r) => r.event.id === test.body.eventId, 30_000);
    first.child.kill('SIGKILL');
    await first.exit;
    expect(await deliveryOf(test.body.eventId)).toEqual({ status: 'pending', attempts: 1 });
    // The claim's lease (60 s) is what keeps others off a delivery in flight; end it by setting the row.
    await own.db.query(`UPDATE webhook_deliveries SET next_attempt_at = now() WHERE event_id = $1`, [
      test.body.eventId,
    ]);

    const second = startServer({});
    await second.port;
    await receiver.waitFor(
      (r) => r.event.id === test.body.eventId && receiver.received.filter((x) => x.path === '/during').length === 2,
      30_000,
    );
    const both = receiver.received.filter((r) => r.path === '/during');
    expect(both.map((r) => r.headers['webhook-id'])).toEqual([test.body.eventId, test.body.eventId]);
    expect(both[1].body).toBe(both[0].body);
    for (let i = 0; i < 100 && (await deliveryOf(test.body.eventId)).status !== 'succeeded'; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await deliveryOf(test.body.eventId)).toEqual({ status: 'succeeded', attempts: 2 });
    second.child.kill('SIGTERM');
    await second.exit;
  }, 90_000);
});
