import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { postWebhook, webhookAgents } from './webhook-sender.js';

/** A receiver on 127.0.0.1 that counts the connections it accepts; `/big` answers more than is read. */
let server: Server;
let connections = 0;
let base = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/big') res.writeHead(500).end('x'.repeat(64 * 1024));
      else res.writeHead(204).end();
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('postWebhook connections', () => {
  it('reuses one kept-alive connection for attempts in a row', async () => {
    const agents = webhookAgents(4);
    const before = connections;
    try {
      for (let i = 0; i < 5; i++) {
        const outcome = await postWebhook(`${base}/ok`, {}, '{}', { allowPrivate: true, agents });
        expect(outcome).toEqual({ ok: true, statusCode: 204, error: null });
      }
      expect(connections - before).toBe(1);
    } finally {
      agents.http.destroy();
    }
  });

  it('never reuses a connection whose answer was not read to its end', async () => {
    const agents = webhookAgents(4);
    const before = connections;
    try {
      const big = await postWebhook(`${base}/big`, {}, '{}', { allowPrivate: true, agents });
      expect(big.ok).toBe(false);
      expect(big.statusCode).toBe(500);
      await postWebhook(`${base}/ok`, {}, '{}', { allowPrivate: true, agents });
      expect(connections - before).toBe(2);
    } finally {
      agents.http.destroy();
    }
  });

  it('opens a connection per attempt without agents', async () => {
    const before = connections;
    for (let i = 0; i < 3; i++) await postWebhook(`${base}/ok`, {}, '{}', { allowPrivate: true });
    expect(connections - before).toBe(3);
  });
});
