import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { WebhookDeliveryWorker } from '../src/webhooks/delivery.worker.js';
import { WebhookResolver } from '../src/webhooks/webhook-runtime.js';
import { postWebhook } from '../src/webhooks/webhook-sender.js';
import { generateSecret } from '../src/webhooks/webhook-signing.js';
import { WebhooksService } from '../src/webhooks/webhooks.service.js';
import { bearer, startTestApp, type TestApp, token } from './support/app.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';

/**
 * SSRF: with WEBHOOK_ALLOW_PRIVATE_URLS unset, only https URLs resolving to public addresses are
 * accepted, and the address is checked again as each connection is made. Host names are resolved by
 * a fake DNS here (WebhookResolver), and every connection the service could make goes to a counting
 * TCP listener on 127.0.0.1: nothing leaves the machine, and "refused" means zero connections.
 */
const admin = () => bearer(token({ sub: 'webhooks-admin', role: 'admin' }));
const PUBLIC = '93.184.216.34';

describe('webhook URL safety', () => {
  let own: OwnDatabase;
  let t: TestApp;
  let listener: Server;
  let connections = 0;
  let dns: Record<string, string[]>;

  beforeAll(async () => {
    own = await ownDatabase('wh_ssrf');
    listener = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    // The counting listener's port is allowed (the rebinding test names it); any other is refused.
    const allowedPorts = `443,${(listener.address() as { port: number }).port}`;
    t = await startTestApp({
      DATABASE_URL: own.url,
      WEBHOOK_ALLOW_PRIVATE_URLS: 'false',
      WEBHOOK_ALLOWED_PORTS: allowedPorts,
    });
    t.app.get(WebhookResolver).resolve = async (host) => {
      const answers = dns[host];
      if (!answers) throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    };
  });
  beforeEach(() => {
    dns = { localhost: ['127.0.0.1', '::1'] };
    connections = 0;
  });
  afterAll(async () => {
    await t?.close();
    await new Promise((resolve) => listener?.close(resolve));
    await own?.drop();
  });

  const port = () => (listener.address() as { port: number }).port;

  it.each([
    ['http://8.8.8.8/hook', /must be https/],
    ['https://127.0.0.1/hook', /public address/],
    ['https://2130706433/hook', /public address/],
    ['https://10.0.0.1/hook', /public address/],
    ['https://192.168.1.10/hook', /public address/],
    ['https://169.254.169.254/latest/meta-data', /public address/],
    ['https://0.0.0.0/hook', /public address/],
    ['https://[::1]/hook', /public address/],
    ['https://[fe80::1]/hook', /public address/],
    ['https://[fd00::1]/hook', /public address/],
    ['https://[::ffff:127.0.0.1]/hook', /public address/],
    ['https://[::ffff:a9fe:a9fe]/hook', /public address/],
    ['https://[::ffff:0:7f00:1]/hook', /public address/],
    ['https://[::ffff:0:127.0.0.1]/hook', /public address/],
    ['https://[::127.0.0.1]/hook', /public address/],
    ['https://[64:ff9b::7f00:1]/hook', /public address/],
    ['https://localhost/hook', /public address/],
    ['https://user:pw@hooks.example.test/hook', /credentials/],
    ['https://unknown.example.test/hook', /does not resolve/],
    // Any port was accepted; only WEBHOOK_ALLOWED_PORTS (default 443) are.
    ['https://93.184.216.34:22/hook', /must use port 443/],
    ['https://93.184.216.34:6379/hook', /must use port 443/],
    ['https://93.184.216.34:80/hook', /must use port 443/],
  ])('refuses %s at creation (400, nothing stored)', async (url, message) => {
    const res = await t.http
      .post('/api/webhooks')
      .set(admin())
      .send({ url, events: ['*'] });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(message);
    // This file's own database: no endpoint exists before the tests below create one.
    expect((await t.db.query(`SELECT count(*)::int AS n FROM webhook_endpoints`)).rows[0].n).toBe(0);
  });

  it('refuses a name with any private address among its answers, without naming the address', async () => {
    dns['mixed.example.test'] = [PUBLIC, '10.0.0.7'];
    const res = await t.http
      .post('/api/webhooks')
      .set(admin())
      .send({ url: 'https://mixed.example.test/', events: ['*'] });
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('url host mixed.example.test resolves to a non-public address');
    expect(JSON.stringify(res.body)).not.toContain('10.0.0.7');
  });

  it.each(['::ffff:0:7f00:1', '::ffff:7f00:1', '::7f00:1', '2606:4700::200:5efe:a9fe:a9fe'])(
    'refuses a name that resolves to %s (an IPv6 form of an internal IPv4 address), without naming it',
    async (address) => {
      dns['v6.example.test'] = [address];
      const res = await t.http
        .post('/api/webhooks')
        .set(admin())
        .send({ url: 'https://v6.example.test/', events: ['*'] });
      expect(res.status).toBe(400);
      expect(res.body.message).toBe('url host v6.example.test resolves to a non-public address');
      expect(JSON.stringify(res.body)).not.toContain(address);
    },
  );

  it('DNS rebinding: public at creation, loopback at connection → refused before connecting', async () => {
    dns['rebind.example.test'] = [PUBLIC];
    const created = await t.http
      .post('/api/webhooks')
      .set(admin())
      .send({ url: `https://rebind.example.test:${port()}/hook`, events: ['webhook.test'] })
      .expect(201);
    dns['rebind.example.test'] = ['127.0.0.1'];
    const { eventId } = (await t.http.post(`/api/webhooks/${created.body.id}/test`).set(admin()).expect(202)).body;
    expect(await t.app.get(WebhookDeliveryWorker).runDue()).toBe(1);
    const { rows } = await t.db.query(
      `SELECT status, attempts, last_status_code, last_error FROM webhook_deliveries WHERE event_id = $1`,
      [eventId],
    );
    expect(rows[0]).toMatchObject({ status: 'pending', attempts: 1, last_status_code: null });
    expect(rows[0].last_error).toBe('refused: url host rebind.example.test resolves to a non-public address');
    expect(connections).toBe(0);
    await t.http.delete(`/api/webhooks/${created.body.id}`).set(admin()).expect(200);
  });

  it.each([
    (p: number) => `https://127.0.0.1:${p}/hook`,
    (p: number) => `https://[::ffff:127.0.0.1]:${p}/hook`,
    (p: number) => `https://[::ffff:7f00:1]:${p}/hook`,
    (p: number) => `https://[::ffff:0:7f00:1]:${p}/hook`,
    (p: number) => `http://127.0.0.1:${p}/hook`,
  ])('a stored private URL (%#) is refused at connection time too', async (urlOf) => {
    // As if the row predates the policy: written directly, bypassing the creation check.
    const id = randomUUID();
    const sealed = t.app.get(WebhooksService).secrets.seal(generateSecret(), id);
    await t.db.query(
      `INSERT INTO webhook_endpoints (id, url, events, secret_encrypted) VALUES ($1, $2, ARRAY['webhook.test'], $3)`,
      [id, urlOf(port()), sealed],
    );
    const { eventId } = (await t.http.post(`/api/webhooks/${id}/test`).set(admin()).expect(202)).body;
    expect(await t.app.get(WebhookDeliveryWorker).runDue()).toBe(1);
    const { rows } = await t.db.query(`SELECT last_error FROM webhook_deliveries WHERE event_id = $1`, [eventId]);
    expect(rows[0].last_error).toMatch(/^refused: /);
    expect(connections).toBe(0);
    await t.db.query(`DELETE FROM webhook_endpoints WHERE id = $1`, [id]);
  });

  it('an attempt gives up after its timeout and reads only the start of a long answer', async () => {
    const hanging = createHttpServer(() => undefined);
    const chatty = createHttpServer((_req, res) => {
      res.writeHead(500);
      res.end('x'.repeat(1_000_000));
    });
    await Promise.all([hanging, chatty].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
    try {
      const at = (s: typeof hanging) => `http://127.0.0.1:${(s.address() as { port: number }).port}/`;
      const slow = await postWebhook(at(hanging), {}, '{}', { allowPrivate: true, timeoutMs: 200 });
      expect(slow).toEqual({ ok: false, statusCode: null, error: 'timed out after 0.2 s' });
      const long = await postWebhook(at(chatty), {}, '{}', { allowPrivate: true });
      expect(long.statusCode).toBe(500);
      expect(long.error!.length).toBeLessThanOrEqual(220);
    } finally {
      hanging.closeAllConnections();
      chatty.closeAllConnections();
      await Promise.all([hanging, chatty].map((s) => new Promise((r) => s.close(r))));
    }
  });
});
