import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import jwt from 'jsonwebtoken';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TEST_JWT_SECRET } from '../../../test/support/app.js';
import { buildServer } from '../../../test/support/build-server.js';
import { type OwnDatabase, ownDatabase } from '../../../test/support/own-database.js';
import { type ServiceProcess, spawnService } from '../../../test/support/service-process.js';
import { createMeter, type Meter, MeterRefusedError, MeterUnavailableError } from '../src/index.js';
import { ServiceProxy } from './service-proxy.js';

/**
 * `meter.check` on the real service, built and started on a database of its own, through a proxy
 * that records what the kit sends and can lose an answer: a plan's grants decide, a consuming check
 * never passes the limit, an `eventId` consumes once, a lost answer is retried with the same
 * `Idempotency-Key` and consumes once, and a service that does not answer is never a yes.
 */
const root = fileURLToPath(new URL('../../..', import.meta.url));
const outDir = path.join(root, 'node_modules', '.cache', `kit-check-build-${process.pid}`);
const mainJs = path.join(outDir, 'src', 'main.js');
const CHECK = '/api/entitlements/check';

const adminToken = jwt.sign({ sub: 'kit-check-admin', role: 'admin', type: 'access' }, TEST_JWT_SECRET, {
  algorithm: 'HS256',
  expiresIn: 3600,
});
const admin = { Authorization: `Bearer ${adminToken}` };

/** The first UTC midnight after now (a day's period ends there). */
const nextUtcMidnight = (now = new Date()) =>
  new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)).toISOString();

/** A port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('meter.check, on the real service', () => {
  let own: OwnDatabase;
  let service: ServiceProcess;
  let serviceOrigin: string;
  let proxy: ServiceProxy;
  let meter: Meter;
  let serviceKey: string;
  const planId = `kit-${randomUUID().slice(0, 8)}`;

  const http = () => request(serviceOrigin);

  async function subscriber(): Promise<string> {
    const userId = `kit-${randomUUID().slice(0, 12)}`;
    const token = jwt.sign({ sub: userId, role: 'user', type: 'access' }, TEST_JWT_SECRET, {
      algorithm: 'HS256',
      expiresIn: 600,
    });
    await http()
      .get('/api/users/me')
      .set({ Authorization: `Bearer ${token}` })
      .expect(200);
    const res = await http().put(`/api/users/${userId}/subscription`).set(admin).send({ planId });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return userId;
  }

  beforeAll(async () => {
    const [database] = await Promise.all([ownDatabase('kit_check'), buildServer(outDir)]);
    own = database;
    service = spawnService(mainJs, root, {
      NODE_ENV: 'test',
      DATABASE_URL: own.url,
      DB_MIGRATIONS_RUN: 'false',
      JWT_ACCESS_SECRET: TEST_JWT_SECRET,
      WEBHOOK_SECRET_KEY: TEST_JWT_SECRET,
      WEBHOOK_WORKER_ENABLED: 'false',
      SHUTDOWN_GRACE_MS: '0',
    });
    serviceOrigin = `http://127.0.0.1:${await service.port}`;
    proxy = await ServiceProxy.start(serviceOrigin);

    await http().get('/api/users/me').set(admin).expect(200);
    for (const [featureKey, type] of [
      ['images', 'metered'],
      ['web_search', 'boolean'],
      ['voice', 'boolean'],
      ['context_window', 'config'],
    ]) {
      const res = await http().post('/api/features').set(admin).send({ featureKey, name: featureKey, type });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    const plan = await http()
      .post('/api/plans')
      .set(admin)
      .send({
        id: planId,
        name: 'Kit plan',
        credits: 10,
        period: 'month',
        features: {
          images: { limit: 3, period: 'day' },
          web_search: true,
          context_window: { value: { tokens: 8000 } },
        },
      });
    expect(plan.status, JSON.stringify(plan.body)).toBe(201);
    const key = await http()
      .post('/api/api-keys')
      .set(admin)
      .send({ name: 'chat backend', permissions: ['usage:ingest'] });
    expect(key.status, JSON.stringify(key.body)).toBe(201);
    serviceKey = key.body.key;
    meter = createMeter({ baseUrl: proxy.origin, apiKey: serviceKey, retry: { attempts: 4, delayMs: 20 } });
  }, 240_000);

  afterAll(async () => {
    if (service?.child.exitCode === null) {
      service.child.kill('SIGTERM');
      await service.exit;
    }
    await proxy?.close();
    await own?.drop();
    await rm(outDir, { recursive: true, force: true });
  }, 60_000);

  it('answers by the plan: a boolean, a config value, a feature not granted, one unknown', async () => {
    const userId = await subscriber();
    expect(await meter.check('web_search', { userId })).toMatchObject({
      featureKey: 'web_search',
      type: 'boolean',
      allowed: true,
    });
    expect(await meter.check('context_window', { userId })).toMatchObject({
      type: 'config',
      allowed: true,
      value: { tokens: 8000 },
    });
    expect(await meter.check('voice', { userId })).toMatchObject({ allowed: false, reason: 'not_granted' });
    expect(await meter.check('no_such_feature', { userId })).toMatchObject({
      allowed: false,
      reason: 'unknown_feature',
    });
    // What the kit sent: the feature and the account, nothing else.
    const sent = proxy.requests.filter((r) => r.path === CHECK && r.body?.featureKey === 'voice');
    expect(sent.map((r) => r.body)).toEqual([{ featureKey: 'voice', userId }]);
  });

  it('consumes up to the limit and refuses past it, consuming nothing then', async () => {
    const userId = await subscriber();
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await meter.check('images', { userId, consume: 1 }));
    expect(answers.map((a) => [a.allowed, a.used, a.remaining])).toEqual([
      [true, 1, 2],
      [true, 2, 1],
      [true, 3, 0],
      [false, 3, 0],
    ]);
    expect(answers[3]).toMatchObject({ reason: 'limit_reached', limit: 3, resetsAt: nextUtcMidnight() });
    // Two at once when one is left: one passes.
    const other = await subscriber();
    await meter.check('images', { userId: other, consume: 2 });
    const both = await Promise.all([1, 2].map(() => meter.check('images', { userId: other, consume: 1 })));
    expect(both.filter((a) => a.allowed)).toHaveLength(1);
    const list = await http().get('/api/entitlements').query({ userId: other }).set(admin).expect(200);
    expect(list.body.items.find((e: { featureKey: string }) => e.featureKey === 'images')).toMatchObject({
      used: 3,
      remaining: 0,
    });
  });

  it('consumes once for a repeated eventId, and once when an answer is lost on the way back', async () => {
    const userId = await subscriber();
    const eventId = `img-${randomUUID()}`;
    const first = await meter.check('images', { userId, consume: 1, eventId });
    const again = await meter.check('images', { userId, consume: 1, eventId });
    expect([first.used, again.used, again.allowed]).toEqual([1, 1, true]);

    proxy.dropNext(CHECK);
    const retried = await meter.check('images', { userId, consume: 1 });
    expect(retried).toMatchObject({ allowed: true, used: 2, remaining: 1 });
    const tries = proxy.requests.filter((r) => r.path === CHECK && r.body?.userId === userId).slice(-2);
    expect(tries.map((r) => r.dropped)).toEqual([true, false]);
    expect(tries[0]!.idempotencyKey).toBeDefined();
    expect(tries[1]!.idempotencyKey).toBe(tries[0]!.idempotencyKey);
    const list = await http().get('/api/entitlements').query({ userId }).set(admin).expect(200);
    expect(list.body.items.find((e: { featureKey: string }) => e.featureKey === 'images').used).toBe(2);
  });

  it('throws for a request the service refuses, and never says yes when the service does not answer', async () => {
    const userId = await subscriber();
    const refused = await meter.check('images', { userId, consume: 0 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(MeterRefusedError);
    expect(refused).toMatchObject({ route: 'check', status: 400 });

    const down = createMeter({
      baseUrl: `http://127.0.0.1:${await closedPort()}`,
      apiKey: serviceKey,
      retry: { attempts: 2, delayMs: 10 },
    });
    const unanswered = await down.check('web_search', { userId }).catch((e: unknown) => e);
    expect(unanswered).toBeInstanceOf(MeterUnavailableError);
    expect(unanswered).toMatchObject({ route: 'check', attempts: 2 });
  });
});
