import { randomUUID } from 'node:crypto';

import type { Test } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RerateRunner } from '../src/rerates/rerate-runner.js';
import { startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, principal } from './support/fixtures.js';

/**
 * Routes that answer 200 instead of their created status when the thing asked for already exists
 * (found by the route's own id: an eventId, a correctionId, a rerateId, a report's content). Sent
 * with a new Idempotency-Key, that 200 is the answer the key stores: a retry with the key answers
 * 200 and the same body again, never the route's created status.
 */
describe('Idempotency-Key on a create the route answers as a replay of its own', () => {
  let t: TestApp;
  let f: Fixtures;
  const admin = principal('admin', 'replay-admin');

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { prefix: 'replay', granter: admin.jwt });
    await t.http.get('/api/users/me').set(admin.auth).expect(200);
  });
  afterAll(async () => {
    await t.app.get(RerateRunner).settled();
    await t.close();
  });

  /**
   * The same create three times: without a key (created), with a new key (200, the route's own
   * replay), and with that key again, which must answer exactly what the second answered.
   */
  async function createThenReplayWithKey(send: (key?: string) => Test, created: number) {
    const first = await send().expect(created);
    const key = randomUUID();
    const replayed = await send(key).expect(200);
    const retried = await send(key);
    expect(retried.status).toBe(200);
    expect(retried.body).toEqual(replayed.body);
    expect(retried.headers['idempotent-replayed']).toBe('true');
    const stored = await t.db.query(`SELECT status_code FROM idempotency_keys WHERE key = $1`, [key]);
    expect(stored.rows).toEqual([{ status_code: 200 }]);
    return { first, replayed, retried };
  }

  const withKey = (req: Test, key: string | undefined) => (key === undefined ? req : req.set('Idempotency-Key', key));

  it('a usage record with a used eventId: 200 with Idempotent-Replayed, and the same on the retry', async () => {
    const u = await f.newUser({ credits: 100 });
    const body = { userId: u.id, service: 'chat', operation: 'completion', credits: 7, eventId: uniqueId('ev') };
    const { first, replayed } = await createThenReplayWithKey(
      (key) => withKey(t.http.post('/api/usage/record').set(admin.auth), key).send(body),
      201,
    );
    expect(replayed.body).toEqual(first.body);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
  });

  it('a correction with a used correctionId: 200 with Idempotent-Replayed, and the same on the retry', async () => {
    const u = await f.newUser({ credits: 100 });
    const recorded = await t.http
      .post('/api/usage/record')
      .set(admin.auth)
      .send({ userId: u.id, service: 'chat', operation: 'completion', credits: 10 })
      .expect(201);
    const body = { correctionId: uniqueId('fix'), reason: 'charged twice', credits: 4 };
    const { first, replayed } = await createThenReplayWithKey(
      (key) =>
        withKey(t.http.post(`/api/usage/records/${recorded.body.id}/corrections`).set(admin.auth), key).send(body),
      201,
    );
    expect(replayed.body).toEqual(first.body);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
  });

  it('a re-rate with a used rerateId: 200 with that re-rate and Idempotent-Replayed, and the same on the retry', async () => {
    const u = await f.newUser();
    const body = {
      rerateId: uniqueId('rr'),
      from: '2019-01-01T00:00:00.000Z',
      to: '2019-01-02T00:00:00.000Z',
      userId: u.id,
      rules: [{ modelId: uniqueId('model'), pricePer1kTokens: '1' }],
      reason: 'a rule with a typo',
    };
    const { first, replayed } = await createThenReplayWithKey(
      (key) => withKey(t.http.post('/api/pricing/rerates').set(admin.auth), key).send(body),
      202,
    );
    expect(replayed.body.id).toBe(first.body.id);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(replayed.headers['idempotent-replayed']).toBe('true');
  });

  it('a report reconciled before: 200 with that reconciliation and Idempotent-Replayed, and the same on the retry', async () => {
    const payout = uniqueId('po_');
    const csv =
      'automatic_payout_id,balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,' +
      'payment_intent_id\r\n' +
      `${payout},${uniqueId('txn_')},2019-01-01 00:00:00,usd,-2.00,0.00,-2.00,fee,\r\n`;
    const { first, replayed } = await createThenReplayWithKey(
      (key) =>
        withKey(t.http.post('/api/finance/reconciliations').set(admin.auth), key)
          .set('Content-Type', 'text/csv')
          .send(csv),
      201,
    );
    expect(replayed.body).toEqual(first.body);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(replayed.headers['idempotent-replayed']).toBe('true');
  });
});
