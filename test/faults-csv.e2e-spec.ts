import { get } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { ExportConnections } from '../src/database/export-connections.js';
import { bearer, servicePool, startTestApp, type TestApp } from './support/app.js';
import { Fixtures } from './support/fixtures.js';
import { PgFaultProxy } from './support/pg-fault-proxy.js';

// The CSV export asks the database before its header row goes out, so an export during an
// outage is a 503, not a 200.

let t: TestApp;
let proxy: PgFaultProxy;
let port: number;
let f: Fixtures;
beforeAll(async () => {
  proxy = await PgFaultProxy.start(inject('databaseUrl'));
  t = await startTestApp({ DATABASE_URL: proxy.url });
  f = new Fixtures(t, { prefix: 'csv' });
  const server = t.app.getHttpServer();
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await t?.close();
  await proxy?.close();
});

/** A user with `n` zero-credit records (no money moves, so the credit invariants are untouched). */
async function userWithRecords(n: number) {
  const { id: sub, jwt } = await f.newUser();
  await t.db.query(
    `INSERT INTO usage_records (id, user_id, service, operation, credits, billing_status, "timestamp", account_id)
     SELECT gen_random_uuid(), $1, 'chat', 'op-' || i, 0, 'billed', now() - i * interval '1 second', (SELECT account_id FROM accounts WHERE user_id = $1::varchar)
       FROM generate_series(1, $2) AS i`,
    [sub, n],
  );
  return jwt;
}

describe('the CSV export when the database connection is lost', () => {
  it('before the first row was read: 503 DATABASE_UNAVAILABLE, not a 200 with a header row only', async () => {
    const jwt = await userWithRecords(3);
    const cut = proxy.cutWhenSent('DECLARE usage_csv');
    const res = await t.http.get('/api/usage/records?format=csv').set(bearer(jwt));
    await cut;
    expect(res.status, res.text).toBe(503);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toMatchObject({ statusCode: 503, code: 'DATABASE_UNAVAILABLE' });
  });

  it('after rows were sent: the transfer is cut off, never ended as if the file were complete', async () => {
    const jwt = await userWithRecords(1500); // more than one batch of 1000
    const cut = proxy.cutWhenSent('FROM usage_csv', 2);
    const outcome = await new Promise<{ status: number; complete: boolean; body: string }>((resolve) => {
      get({ host: '127.0.0.1', port, path: '/api/usage/records?format=csv', headers: bearer(jwt) }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('close', () => resolve({ status: res.statusCode ?? 0, complete: res.complete, body }));
      }).on('error', () => undefined);
    });
    await cut;
    expect(outcome.status).toBe(200);
    expect(outcome.body.split('\r\n').length).toBeGreaterThan(1000);
    expect(outcome.complete).toBe(false);
  });

  it('a client that leaves mid-export gives the connection back', async () => {
    const jwt = await userWithRecords(5000);
    const pool = servicePool(t);
    await new Promise<void>((resolve) => {
      const req = get(
        { host: '127.0.0.1', port, path: '/api/usage/records?format=csv', headers: bearer(jwt) },
        (res) => {
          expect(res.statusCode).toBe(200);
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        },
      );
      req.on('error', () => undefined);
    });
    // The export ran on the exports' own pool; neither pool keeps a connection lent.
    const exportsPool = () => t.app.get(ExportConnections).stats() ?? { total: 0, idle: 0 };
    const lent = () => pool.totalCount - pool.idleCount + exportsPool().total - exportsPool().idle;
    expect(exportsPool().total).toBeGreaterThan(0);
    // Polls for the asynchronous release (a pool state, not a timing assumption).
    for (let i = 0; i < 500 && lent() > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(pool.totalCount - pool.idleCount).toBe(0);
    expect(exportsPool().total - exportsPool().idle).toBe(0);
  });

  it('the export works once the database answers again', async () => {
    const jwt = await userWithRecords(2);
    const res = await t.http.get('/api/usage/records?format=csv').set(bearer(jwt)).expect(200);
    expect(res.text.trim().split('\r\n')).toHaveLength(3);
  });
});
