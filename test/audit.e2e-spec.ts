import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { Fixtures, principal } from './support/fixtures.js';

interface AuditEntry {
  id: string;
  at: string;
  actor: { userId: string; role: string; via: string; apiKeyId?: string };
  action: string;
  target: { type: string; id: string };
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  requestId: string | null;
}

const MODEL = 'anthropic.claude-instant-v1';

/**
 * The audit log (docs/audit.md): every change by a supervisor, an admin or a service key
 * writes exactly one entry in its own transaction, with what the object was before and after and no
 * secret; users' own changes and metering write none; the table refuses UPDATE, DELETE and TRUNCATE.
 * METERING_TRUST=service, as in production, so a service principal meters and aborts for a user.
 */
describe('audit log', () => {
  let t: TestApp;
  let f: Fixtures;
  const admin = principal('admin', 'audit-admin');
  const supervisor = principal('supervisor', 'audit-sup');
  /** Every plaintext secret the changes below answered: none may appear in any entry. */
  const secrets: string[] = [];

  beforeAll(async () => {
    t = await startTestApp({ METERING_TRUST: 'service' });
    f = new Fixtures(t, { prefix: 'audit' });
    await t.http.get('/api/users/me').set(admin.auth).expect(200);
    await t.http.get('/api/users/me').set(supervisor.auth).expect(200);
  });
  afterAll(() => t?.close());

  async function entries(query: Record<string, string>): Promise<AuditEntry[]> {
    const res = await t.http
      .get('/api/audit')
      .query({ limit: '500', ...query })
      .set(admin.auth);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.items;
  }

  /** The one entry of `action` on `targetId`, checked for its actor and shape. */
  async function theEntry(action: string, targetId: string, actor = admin.id): Promise<AuditEntry> {
    const found = await entries({ action, targetId });
    expect(found, `${action} ${targetId}`).toHaveLength(1);
    const [entry] = found;
    expect(entry.actor.userId).toBe(actor);
    expect(entry.target.id).toBe(targetId);
    expect(entry.requestId).toEqual(expect.any(String));
    return entry;
  }

  describe('each audited change writes exactly one entry', () => {
    it('credits: allocate (supervisor), void, limits, alert thresholds', async () => {
      const user = await f.newUser();
      const res = await t.http
        .post('/api/credits/allocate')
        .set(supervisor.auth)
        .send({ userId: user.id, credits: 40, notes: 'goodwill' });
      expect(res.status).toBe(201);
      const allocate = await theEntry('credits.allocate', res.body.id, supervisor.id);
      expect(allocate).toMatchObject({
        actor: { role: 'supervisor', via: 'jwt' },
        target: { type: 'allocation' },
        before: null,
        after: { userId: user.id, totalCredits: 40, remainingCredits: 40, notes: 'goodwill' },
      });

      const voided = await t.http
        .post(`/api/credits/allocations/${res.body.id}/void`)
        .set(admin.auth)
        .send({ reason: 'granted by mistake' });
      expect(voided.status).toBe(200);
      expect(voided.body).toMatchObject({ remainingCredits: 0, voidedBy: admin.id, voidReason: 'granted by mistake' });
      const voidEntry = await theEntry('credits.void', res.body.id);
      expect(voidEntry.before).toMatchObject({ remainingCredits: 40, voidedAt: null });
      expect(voidEntry.after).toMatchObject({ remainingCredits: 0, voidReason: 'granted by mistake' });
      // Voiding again changes nothing and records nothing.
      await t.http.post(`/api/credits/allocations/${res.body.id}/void`).set(admin.auth).send({}).expect(200);
      await theEntry('credits.void', res.body.id);

      await t.http
        .put(`/api/credits/limits/${user.id}`)
        .set(admin.auth)
        .send({ overdraftLimit: 25, maxCreditsPerHour: 500 })
        .expect(200);
      const limits = await theEntry('credits.limits.set', user.id);
      expect(limits).toMatchObject({
        target: { type: 'user' },
        before: { overdraftLimit: 0, maxCreditsPerHour: null },
        after: { overdraftLimit: 25, maxCreditsPerHour: 500 },
      });

      await t.http
        .put(`/api/credits/alerts/${user.id}`)
        .set(supervisor.auth)
        .send({ thresholds: [10, 50] })
        .expect(200);
      const alerts = await theEntry('credits.alerts.set', user.id, supervisor.id);
      expect(alerts.before).toMatchObject({ alertThresholds: null });
      expect(alerts.after).toMatchObject({ alertThresholds: [50, 10] });
    });

    it('usage.resolve, and a service principal aborting another user’s session', async () => {
      const user = await f.newUser();
      const init = await t.http
        .post('/api/streaming-sessions/initialize')
        .set(admin.auth)
        .send({ userId: user.id, modelId: MODEL, estimatedTokens: 0 });
      expect(init.status, JSON.stringify(init.body)).toBe(201);
      const fin = await t.http
        .post('/api/streaming-sessions/finalize')
        .set(admin.auth)
        .send({ userId: user.id, sessionId: init.body.sessionId, actualTokens: 12_500 });
      expect(fin.body).toMatchObject({ shortfall: 10 });
      const { rows } = await t.db.query(
        `SELECT usage_record_id FROM streaming_sessions WHERE user_id = $1 AND session_id = $2`,
        [user.id, init.body.sessionId],
      );
      const recordId: string = rows[0].usage_record_id;
      await t.http
        .post(`/api/usage/records/${recordId}/resolve`)
        .set(admin.auth)
        .send({ action: 'write_off', note: 'promo' })
        .expect(200);
      const resolve = await theEntry('usage.resolve', recordId);
      expect(resolve.before).toMatchObject({ reviewStatus: 'open', shortfall: 10 });
      expect(resolve.after).toMatchObject({ reviewStatus: 'resolved', note: 'promo' });

      // Metering by a service principal is not audited; an operator aborting a session another
      // credential opened is (the opener's own abort is metering, test/who-acted.e2e-spec.ts).
      const backend = await f.apiKey(admin, { name: 'chat backend', permissions: ['usage:ingest'] });
      secrets.push(backend.key);
      const stuck = await t.http
        .post('/api/streaming-sessions/initialize')
        .set({ 'X-API-Key': backend.key })
        .send({ userId: user.id, modelId: MODEL, estimatedTokens: 0 });
      expect(stuck.status).toBe(201);
      expect(await entries({ targetId: `${user.id}/${stuck.body.sessionId}` })).toHaveLength(0);
      const abort = { userId: user.id, sessionId: stuck.body.sessionId };
      await t.http.post('/api/streaming-sessions/abort').set(admin.auth).send(abort).expect(200);
      const aborted = await theEntry('session.abort', `${user.id}/${stuck.body.sessionId}`);
      expect(aborted).toMatchObject({
        target: { type: 'streaming_session' },
        before: { status: 'active' },
        after: { status: 'aborted', userId: user.id },
      });
      // The same abort again answers the same result: no second entry.
      await t.http.post('/api/streaming-sessions/abort').set(admin.auth).send(abort).expect(200);
      await theEntry('session.abort', `${user.id}/${stuck.body.sessionId}`);
    });

    it('pricing, plans and subscriptions', async () => {
      const modelId = uniqueId('audit-model');
      const price = await t.http
        .post('/api/pricing')
        .set(admin.auth)
        .send({ modelId, pricePer1kTokens: '0.5000' })
        .expect(201);
      const priced = await theEntry('pricing.create', price.body.id);
      expect(priced).toMatchObject({ before: null, after: { modelId, pricePer1kTokens: '0.5000' } });

      // A price sheet: one entry for the whole import; the same sheet again changes nothing, no entry.
      const sheet = {
        effectiveFrom: new Date(Date.now() + 86_400_000).toISOString(),
        rules: [
          { modelId, pricePer1kTokens: '0.6000' },
          { modelId: uniqueId('audit-model'), pricePer1kTokens: '1.0000', cacheReadPricePer1kTokens: '0.1000' },
        ],
      };
      const imported = await t.http.post('/api/pricing/import').set(admin.auth).send(sheet).expect(201);
      await t.http.post('/api/pricing/import').set(admin.auth).send(sheet).expect(201);
      const importEntry = await theEntry('pricing.import', imported.body.effectiveFrom);
      expect(importEntry).toMatchObject({
        target: { type: 'pricing_import' },
        before: null,
        after: { effectiveFrom: sheet.effectiveFrom, rules: [{ modelId, pricePer1kTokens: '0.6000' }, {}] },
      });

      const planId = uniqueId('plan').toLowerCase();
      await t.http
        .post('/api/plans')
        .set(admin.auth)
        .send({ id: planId, name: 'Audit', credits: 100, period: 'month' })
        .expect(201);
      expect((await theEntry('plan.create', planId)).after).toMatchObject({ credits: 100 });
      await t.http.patch(`/api/plans/${planId}`).set(admin.auth).send({ credits: 150 }).expect(200);
      const updated = await theEntry('plan.update', planId);
      expect(updated).toMatchObject({ before: { credits: 100 }, after: { credits: 150 } });

      const user = await f.newUser();
      await t.http.put(`/api/users/${user.id}/subscription`).set(supervisor.auth).send({ planId }).expect(200);
      // The same plan again changes nothing: no second entry.
      await t.http.put(`/api/users/${user.id}/subscription`).set(supervisor.auth).send({ planId }).expect(200);
      const set = await theEntry('subscription.set', user.id, supervisor.id);
      expect(set).toMatchObject({ before: null, after: { userId: user.id, planId } });
      await t.http.delete(`/api/users/${user.id}/subscription`).set(supervisor.auth).expect(200);
      const deleted = await theEntry('subscription.delete', user.id, supervisor.id);
      expect(deleted).toMatchObject({ before: { planId }, after: null });
    });

    it('API keys: service keys, and an admin changing another user’s key', async () => {
      const serviceKey = await f.apiKey(admin, { name: 'ingest', permissions: ['usage:ingest'] });
      secrets.push(serviceKey.key);
      const created = await theEntry('api_key.create', serviceKey.id);
      expect(created).toMatchObject({ target: { type: 'api_key' }, before: null, after: { name: 'ingest' } });
      expect(created.after).not.toHaveProperty('key');

      const user = await f.newUser();
      const own = await f.apiKey(user, { name: 'mine' });
      secrets.push(own.key);
      await t.http.patch(`/api/api-keys/${own.id}`).set(user.auth).send({ name: 'still mine' }).expect(200);
      expect(await entries({ targetId: own.id })).toHaveLength(0);
      await t.http.patch(`/api/api-keys/${own.id}`).set(admin.auth).send({ creditLimit: 50 }).expect(200);
      const update = await theEntry('api_key.update', own.id);
      expect(update).toMatchObject({ before: { creditLimit: null }, after: { creditLimit: 50, name: 'still mine' } });
      await t.http.delete(`/api/api-keys/${own.id}`).set(admin.auth).expect(200);
      await t.http.delete(`/api/api-keys/${own.id}`).set(admin.auth).expect(200);
      const revoke = await theEntry('api_key.revoke', own.id);
      expect(revoke).toMatchObject({ before: { isActive: true }, after: { isActive: false } });

      // The service key's owner, an admin no more (the authentication service now issues them a
      // user's token), still owns the key and may change it: audited all the same, as a user.
      const demoted = { auth: bearer(token({ sub: admin.id, role: 'user' })) };
      await t.http.patch(`/api/api-keys/${serviceKey.id}`).set(demoted.auth).send({ name: 'ingest-old' }).expect(200);
      await t.http.delete(`/api/api-keys/${serviceKey.id}`).set(demoted.auth).expect(200);
      for (const action of ['api_key.update', 'api_key.revoke']) {
        const entry = await theEntry(action, serviceKey.id);
        expect(entry.actor).toMatchObject({ userId: admin.id, role: 'user', via: 'jwt' });
      }
      expect((await theEntry('api_key.revoke', serviceKey.id)).after).toMatchObject({
        name: 'ingest-old',
        isActive: false,
      });
    });

    it('webhooks: create, update, rotate the secret, retry a delivery, delete', async () => {
      const created = await t.http
        .post('/api/webhooks')
        .set(admin.auth)
        .send({ url: 'http://127.0.0.1:9/audit', events: ['*'] })
        .expect(201);
      const id: string = created.body.id;
      secrets.push(created.body.secret);
      expect((await theEntry('webhook.create', id)).after).toMatchObject({ url: 'http://127.0.0.1:9/audit' });

      await t.http.patch(`/api/webhooks/${id}`).set(admin.auth).send({ description: 'billing' }).expect(200);
      const update = await theEntry('webhook.update', id);
      expect(update).toMatchObject({ before: { description: null }, after: { description: 'billing' } });

      const rotated = await t.http.post(`/api/webhooks/${id}/rotate-secret`).set(admin.auth).expect(200);
      secrets.push(rotated.body.secret);
      expect((await theEntry('webhook.rotate_secret', id)).after).toMatchObject({
        id,
        previousSecretExpiresAt: rotated.body.previousSecretExpiresAt,
      });

      await t.http.post(`/api/webhooks/${id}/test`).set(admin.auth).expect(202);
      const { rows } = await t.db.query(
        `UPDATE webhook_deliveries SET status = 'succeeded', next_attempt_at = NULL, delivered_at = now()
          WHERE endpoint_id = $1 RETURNING id`,
        [id],
      );
      const deliveryId: string = rows[0].id;
      await t.http.post(`/api/webhooks/deliveries/${deliveryId}/retry`).set(admin.auth).expect(202);
      const retry = await theEntry('webhook.retry', deliveryId);
      expect(retry).toMatchObject({
        target: { type: 'webhook_delivery' },
        before: { status: 'succeeded', endpointId: id },
        after: { status: 'pending', endpointId: id },
      });

      await t.http.delete(`/api/webhooks/${id}`).set(admin.auth).expect(200);
      expect(await theEntry('webhook.delete', id)).toMatchObject({ before: { id }, after: null });
    });

    it('no entry holds a secret, and each is of a listed action', async () => {
      const all = await entries({ actor: admin.id });
      expect(all.length).toBeGreaterThan(10);
      const text = JSON.stringify(all);
      expect(secrets.length).toBeGreaterThanOrEqual(4);
      for (const secret of secrets) expect(text).not.toContain(secret);
      expect(text).not.toMatch(/whsec_|"secret"|keyHash|secretEncrypted|key_hash/);
    });
  });

  it('a service key aborting a user’s session is recorded with the key', async () => {
    const serviceKey = await f.apiKey(admin, { name: 'chat backend', permissions: ['usage:ingest'] });
    secrets.push(serviceKey.key);
    const asService = { 'X-API-Key': serviceKey.key };
    const user = await f.newUser();
    // Opened by the admin's token, aborted by the service key: another credential than the opener.
    const init = await t.http
      .post('/api/streaming-sessions/initialize')
      .set(admin.auth)
      .send({ userId: user.id, modelId: MODEL, estimatedTokens: 0 });
    expect(init.status, JSON.stringify(init.body)).toBe(201);
    await t.http
      .post('/api/streaming-sessions/abort')
      .set(asService)
      .send({ userId: user.id, sessionId: init.body.sessionId })
      .expect(200);
    const entry = await theEntry('session.abort', `${user.id}/${init.body.sessionId}`);
    expect(entry.actor).toEqual({ userId: admin.id, role: 'user', via: 'api-key', apiKeyId: serviceKey.id });
    expect(JSON.stringify(entry)).not.toContain(serviceKey.key);
  });

  it('users’ own changes and metering write nothing', async () => {
    const user = await f.newUser({ credits: 10 });
    const key = await f.apiKey(user, { name: 'own' });
    await t.http.delete(`/api/api-keys/${key.id}`).set(user.auth).expect(200);
    await t.http
      .post('/api/usage/record')
      .set(admin.auth)
      .send({ userId: user.id, service: 'chat', operation: 'completion', credits: 3 })
      .expect(201);
    expect(await entries({ actor: user.id })).toHaveLength(0);
    expect(await entries({ targetId: key.id })).toHaveLength(0);
  });

  it('an idempotent replay writes no second entry; a rolled-back change writes none', async () => {
    const user = await f.newUser();
    const key = uniqueId('idem');
    const first = await t.http
      .post('/api/credits/allocate')
      .set(admin.auth)
      .set('Idempotency-Key', key)
      .send({ userId: user.id, credits: 5 });
    const replay = await t.http
      .post('/api/credits/allocate')
      .set(admin.auth)
      .set('Idempotency-Key', key)
      .send({ userId: user.id, credits: 5 });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.id).toBe(first.body.id);
    await theEntry('credits.allocate', first.body.id);

    // A supervisor granting to themself is refused: nothing changed, nothing recorded.
    await t.http
      .post('/api/credits/allocate')
      .set(supervisor.auth)
      .send({ userId: supervisor.id, credits: 5 })
      .expect(403);
    const grants = await entries({ actor: supervisor.id, action: 'credits.allocate' });
    expect(grants.filter((e) => e.after?.userId === supervisor.id)).toEqual([]);
  });

  it('the table is append-only: UPDATE, DELETE and TRUNCATE fail', async () => {
    const [entry] = await entries({ actor: admin.id, limit: '1' });
    await expect(t.db.query(`UPDATE audit_log SET action = 'x' WHERE id = $1`, [entry.id])).rejects.toThrow(
      /append-only/,
    );
    await expect(t.db.query(`DELETE FROM audit_log WHERE id = $1`, [entry.id])).rejects.toThrow(/append-only/);
    await expect(t.db.query(`TRUNCATE audit_log`)).rejects.toThrow(/append-only/);
    const { rows } = await t.db.query(`SELECT action FROM audit_log WHERE id = $1`, [entry.id]);
    expect(rows).toEqual([{ action: entry.action }]);
  });

  describe('GET /api/audit', () => {
    const pager = principal('admin', 'audit-pager');
    const planIds: string[] = [];

    beforeAll(async () => {
      for (let i = 0; i < 5; i++) {
        const id = uniqueId('pp').toLowerCase();
        planIds.push(id);
        await t.http
          .post('/api/plans')
          .set(pager.auth)
          .send({ id, name: `P${i}`, credits: 10, period: 'day' })
          .expect(201);
      }
    });

    it('pages newest first with the cursor, without repeats or gaps', async () => {
      const seen: AuditEntry[] = [];
      let cursor: string | null = null;
      do {
        const res: { body: { items: AuditEntry[]; nextCursor: string | null } } = await t.http
          .get('/api/audit')
          .query({ actor: pager.id, limit: '2', ...(cursor ? { cursor } : {}) })
          .set(admin.auth)
          .expect(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.items);
        cursor = res.body.nextCursor;
      } while (cursor);
      expect(seen.map((e) => e.target.id)).toEqual([...planIds].reverse());
      for (let i = 1; i < seen.length; i++) expect(seen[i - 1].at >= seen[i].at).toBe(true);
    });

    it('filters by action, target type, target id and time', async () => {
      expect(await entries({ actor: pager.id, action: 'plan.update' })).toHaveLength(0);
      expect(await entries({ actor: pager.id, targetType: 'plan' })).toHaveLength(5);
      expect((await entries({ targetType: 'plan', targetId: planIds[2] }))[0].target.id).toBe(planIds[2]);
      const all = await entries({ actor: pager.id });
      const middle = all[2].at;
      const upTo = await entries({ actor: pager.id, to: middle });
      expect(upTo.map((e) => e.id)).toEqual(all.filter((e) => e.at <= middle).map((e) => e.id));
      const from = await entries({ actor: pager.id, from: middle });
      expect(from.map((e) => e.id)).toEqual(all.filter((e) => e.at >= middle).map((e) => e.id));
      expect(await entries({ actor: pager.id, from: '2000-01-01', to: '2000-01-02' })).toHaveLength(0);
      // A date-only `to` includes that whole UTC day.
      expect(await entries({ actor: pager.id, to: middle.slice(0, 10) })).toHaveLength(5);
    });

    it('refuses bad queries with 400 and everyone but admins with 401/403', async () => {
      for (const query of [
        { action: 'credits.steal' },
        { targetType: 'nothing' },
        { from: '2026-02-30' },
        { from: '2026-11-02', to: '2026-11-01' },
        { cursor: 'bm90LWEtY3Vyc29y' },
        { limit: '0' },
      ]) {
        const res = await t.http.get('/api/audit').query(query).set(admin.auth);
        expect(res.status, JSON.stringify(query)).toBe(400);
      }
      await t.http.get('/api/audit').expect(401);
      await t.http.get('/api/audit').set(supervisor.auth).expect(403);
      await t.http
        .get('/api/audit')
        .set(bearer(token({ sub: uniqueId('audit-user') })))
        .expect(403);
    });
  });
});
