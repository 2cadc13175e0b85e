import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { WebhookDeliveryWorker } from '../src/webhooks/delivery.worker.js';
import { WebhookResolver } from '../src/webhooks/webhook-runtime.js';
import { bearer, startTestApp, type TestApp, token } from './support/app.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

/**
 * Webhook receivers inside the platform (docs/webhooks.md, "Receivers inside your network"): in
 * production, an endpoint whose addresses all fall in WEBHOOK_ALLOWED_NETWORKS is accepted over http
 * and on any port; every other keeps the public rules. Creation only resolves names (a fake DNS here),
 * and the one delivery goes to a receiver on 127.0.0.1: no traffic leaves the machine.
 */
const admin = bearer(token({ sub: 'webhooks-networks-admin', role: 'admin' }));
const PRODUCTION = { NODE_ENV: 'production', WEBHOOK_ALLOW_PRIVATE_URLS: 'false', METERING_TRUST: 'service' };

describe('WEBHOOK_ALLOWED_NETWORKS', () => {
  let own: OwnDatabase;
  let plain: TestApp;
  let inside: TestApp;
  let receiver: WebhookReceiver;
  const dns: Record<string, string[]> = {
    'billing.internal.test': ['10.20.0.5', '10.20.0.6'],
    'mixed.internal.test': ['10.20.0.5', '93.184.216.34'],
  };

  beforeAll(async () => {
    own = await ownDatabase('wh_networks');
    receiver = await WebhookReceiver.start();
    plain = await startTestApp({ ...PRODUCTION, DATABASE_URL: own.url });
    inside = await startTestApp({
      ...PRODUCTION,
      DATABASE_URL: own.url,
      WEBHOOK_ALLOWED_NETWORKS: '10.0.0.0/8, 127.0.0.0/8',
    });
    for (const t of [plain, inside]) {
      t.app.get(WebhookResolver).resolve = async (host) => {
        const answers = dns[host];
        if (!answers) throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
        return answers.map((address) => ({ address, family: 4 }));
      };
    }
  });
  afterAll(async () => {
    await plain?.close();
    await inside?.close();
    await receiver?.close();
    await own?.drop();
  });

  const create = (t: TestApp, url: string) =>
    t.http
      .post('/api/webhooks')
      .set(admin)
      .send({ url, events: ['*'] });

  it('refuses http://10.1.2.3:8080/ without it, accepts it with 10.0.0.0/8 listed (production)', async () => {
    const refused = await create(plain, 'http://10.1.2.3:8080/');
    expect(refused.status).toBe(400);
    expect(refused.body.message).toBe('url must be https');

    const accepted = await create(inside, 'http://10.1.2.3:8080/');
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
    expect(accepted.body).toMatchObject({ url: 'http://10.1.2.3:8080/', isActive: true });
  });

  it('accepts a name whose every address is inside; the public rules judge every other endpoint', async () => {
    expect((await create(inside, 'https://billing.internal.test:9443/hooks')).status).toBe(201);
    for (const [url, message] of [
      ['http://mixed.internal.test/', 'url must be https'],
      ['https://mixed.internal.test/', 'url host mixed.internal.test resolves to a non-public address'],
      ['http://11.0.0.1:8080/', 'url must be https'],
      ['https://192.168.1.10/', 'url host 192.168.1.10 is not a public address'],
      ['https://93.184.216.34:8443/', 'url must use port 443 (WEBHOOK_ALLOWED_PORTS)'],
    ]) {
      const res = await create(inside, url);
      expect([url, res.status, res.body.message]).toEqual([url, 400, message]);
    }
  });

  it('delivers to a receiver on 127.0.0.1 over http in production with 127.0.0.0/8 listed', async () => {
    const created = await create(inside, receiver.url('/internal')).expect(201);
    const sent = await inside.http.post(`/api/webhooks/${created.body.id}/test`).set(admin).expect(202);
    expect(await inside.app.get(WebhookDeliveryWorker).runDue()).toBeGreaterThanOrEqual(1);
    const got = await receiver.waitFor((r) => r.event.id === sent.body.eventId);
    expect(got.path).toBe('/internal');
    expect(got.event.type).toBe('webhook.test');
    expect(got.headers['webhook-signature']).toMatch(/^v1,/);
    const { rows } = await own.db.query(`SELECT status FROM webhook_deliveries WHERE event_id = $1`, [
      sent.body.eventId,
    ]);
    expect(rows).toEqual([{ status: 'succeeded' }]);
  });

  it('the same stored receiver is refused by an instance without the variable, before connecting', async () => {
    const created = await create(inside, receiver.url('/elsewhere')).expect(201);
    const before = receiver.received.length;
    const sent = await plain.http.post(`/api/webhooks/${created.body.id}/test`).set(admin).expect(202);
    await plain.app.get(WebhookDeliveryWorker).runDue();
    const { rows } = await own.db.query(`SELECT status, last_error FROM webhook_deliveries WHERE event_id = $1`, [
      sent.body.eventId,
    ]);
    expect(rows[0]).toMatchObject({ status: 'pending', last_error: 'refused: url must be https' });
    expect(receiver.received.length).toBe(before);
  });

  it('refuses to start with a bad CIDR, naming the variable', async () => {
    await expect(startTestApp({ DATABASE_URL: own.url, WEBHOOK_ALLOWED_NETWORKS: '10.0.0.0/33' })).rejects.toThrow(
      /WEBHOOK_ALLOWED_NETWORKS must be a comma list of CIDRs/,
    );
  });
});
