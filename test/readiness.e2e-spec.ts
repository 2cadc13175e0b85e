import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type Socket } from 'node:net';

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { bearer, servicePool, startTestApp, type TestApp, token, uniqueId } from './support/app.js';

/** A TCP proxy to the test database that the test can cut and restore, like a network outage. */
class CuttableProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Stops accepting and kills every open connection. */
  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server?.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

describe('readiness follows the database', () => {
  let t: TestApp;
  let proxy: CuttableProxy;
  beforeAll(async () => {
    const db = new URL(inject('databaseUrl'));
    proxy = new CuttableProxy({ host: db.hostname, port: Number(db.port || 5432) });
    await proxy.open();
    db.hostname = '127.0.0.1';
    db.port = String(proxy.port);
    t = await startTestApp({ DATABASE_URL: db.toString(), DB_POOL_SIZE: '3' });
  });
  afterAll(async () => {
    await t?.close();
    await proxy?.cut();
  });

  it('asks on a connection of its own: 200 while every connection of the request pool is in use', async () => {
    const pool = servicePool(t);
    const held = await Promise.all([1, 2, 3].map(() => pool.connect()));
    try {
      expect(pool.totalCount - pool.idleCount).toBe(3); // DB_POOL_SIZE
      const started = Date.now();
      const res = await t.http.get('/api/health/ready').expect(200);
      expect(res.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
      // Before: it waited for the pool until its own 2 s timeout and answered 503.
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      for (const client of held) client.release();
    }
  });

  it('is 200, then 503 while the database is unreachable (the process survives), then 200 again', async () => {
    const user = bearer(token({ sub: uniqueId() }));
    await t.http.get('/api/health/ready').expect(200);
    await t.http.get('/api/users/me').set(user).expect(200);

    await proxy.cut();
    const down = await t.http.get('/api/health/ready').expect(503);
    expect(down.body).toMatchObject({ status: 'error', error: { database: { status: 'down' } } });
    // Liveness does not depend on the database.
    await t.http.get('/health').expect(200);
    // A request that needs the database gets a 503 without internals, not a crash or a 401.
    const failed = await t.http.get('/api/users/me').set(user);
    expect(failed.status).toBe(503);
    expect(failed.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable', requestId: expect.any(String) });
    expect(JSON.stringify(failed.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|SELECT/);

    await proxy.open(); // same port
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await t.http.get('/api/health/ready')).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
    await t.http.get('/api/users/me').set(user).expect(200);
  });
});
