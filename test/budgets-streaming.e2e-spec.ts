import { randomUUID } from 'node:crypto';

import { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { DueSession } from '../src/streaming-sessions/streaming-sessions.repository.js';
import { StreamingSessionsService } from '../src/streaming-sessions/streaming-sessions.service.js';
import { bearer, startTestApp, type TestApp } from './support/app.js';
import { expireSessionNow } from './support/clock.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * A streaming session's scopes (docs/budgets.md "Naming scopes"): named at initialize, they are on
 * the record its settlement writes, whichever settles it (finalize, abort, the expiry job), so stats
 * by scope count streamed usage, equal to the ledger's sums. Prices: a model of this file at 10
 * credits per 1k tokens, so a session of 1000 estimated tokens holds 12 and expires at 10.
 */
describe('budget scopes on streamed usage', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const model = `bstream-${randomUUID().slice(0, 8)}`;
  const admin = bearer(tokenFor('admin', 'bstream-admin'));

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'bs' });
    await t.http
      .post('/api/pricing')
      .set(admin)
      .send({ modelId: model, pricePer1kTokens: '10', outputPricePer1kTokens: '10' })
      .expect(201);
  });
  afterAll(() => t.close());
  afterEach(async () => {
    await expectInvariants(t, users);
  });

  it('writes the initialize’s scopes on the settlement’s record; stats by scope count them', async () => {
    const u = await f.newUser({ credits: 1000 });
    // A budget on the project too: its counter and the stats agree.
    await t.http
      .post('/api/budgets')
      .set(u.auth)
      .send({
        budgetId: `bs-${randomUUID().slice(0, 8)}`,
        scope: { kind: 'project', id: 'p-stream' },
        limitCredits: 500,
      })
      .expect(201);
    const init = async (scopes?: Record<string, unknown>) => {
      const sessionId = `s-${randomUUID()}`;
      await t.http
        .post('/api/streaming-sessions/initialize')
        .set(u.auth)
        .send({ modelId: model, sessionId, estimatedTokens: 1000, ...(scopes ? { scopes } : {}) })
        .expect(201);
      return sessionId;
    };
    const all = { project: 'p-stream', tag: ['t1', 't2'], run: 'r1', session: 'chat-1' };

    // Finalized: 450 tokens, 5 credits.
    const finalized = await init(all);
    await t.http
      .post('/api/streaming-sessions/finalize')
      .set(u.auth)
      .send({ sessionId: finalized, actualTokens: 450 })
      .expect(200);
    // Aborted after 100 tokens: 1 credit.
    const aborted = await init({ project: 'p-stream', run: 'r2' });
    await t.http
      .post('/api/streaming-sessions/abort')
      .set(u.auth)
      .send({ sessionId: aborted, tokensGenerated: 100 })
      .expect(200);
    // Expired: charged its estimate, 10 credits (this session alone, as the job would).
    const expired = await init({ project: 'p-stream', tag: ['t2'] });
    await expireSessionNow(t.db, expired);
    const due = (
      await t.db.query<DueSession>(`SELECT * FROM streaming_sessions WHERE session_id = $1 AND user_id = $2`, [
        expired,
        u.id,
      ])
    ).rows[0];
    const settled = await t.app.get(DataSource).transaction((m) => t.app.get(StreamingSessionsService).expire(m, due));
    expect(settled?.status).toBe('expired');
    // Without scopes: recorded without any; beside it a plain record of the project.
    const plain = await init();
    await t.http
      .post('/api/streaming-sessions/finalize')
      .set(u.auth)
      .send({ sessionId: plain, actualTokens: 300 })
      .expect(200);
    await t.http
      .post('/api/usage/record')
      .set(u.auth)
      .send({ service: 'chat', operation: 'completion', credits: 7, scopes: { project: 'p-stream' } })
      .expect(201);

    const scopesOf = async (sessionId: string) =>
      (
        await t.db.query(
          `SELECT r.credits, r.scope_project, r.scope_tags, r.scope_run, r.scope_session
             FROM streaming_sessions s JOIN usage_records r ON r.id = s.usage_record_id
            WHERE s.session_id = $1 AND s.user_id = $2`,
          [sessionId, u.id],
        )
      ).rows[0];
    expect(await scopesOf(finalized)).toEqual({
      credits: 5,
      scope_project: 'p-stream',
      scope_tags: ['t1', 't2'],
      scope_run: 'r1',
      scope_session: 'chat-1',
    });
    expect(await scopesOf(aborted)).toEqual({
      credits: 1,
      scope_project: 'p-stream',
      scope_tags: null,
      scope_run: 'r2',
      scope_session: null,
    });
    expect(await scopesOf(expired)).toEqual({
      credits: 10,
      scope_project: 'p-stream',
      scope_tags: ['t2'],
      scope_run: null,
      scope_session: null,
    });
    expect(await scopesOf(plain)).toMatchObject({ scope_project: null, scope_tags: null, scope_run: null });

    const byScope = async (kind: string) =>
      (await t.http.get(`/api/usage/stats?groupBy=${kind}`).set(u.auth).expect(200)).body.byScope;
    expect(await byScope('project')).toEqual({ 'p-stream': 5 + 1 + 10 + 7 });
    expect(await byScope('tag')).toEqual({ t1: 5, t2: 15 });
    expect(await byScope('run')).toEqual({ r1: 5, r2: 1 });
    expect(await byScope('session')).toEqual({ 'chat-1': 5 });
    // Equal to the ledger's sums: the lines of the project's records, and the holds of its sessions.
    const ledger = await t.db.query(
      `WITH r AS (SELECT id FROM usage_records WHERE user_id = $1 AND scope_project = 'p-stream'),
            s AS (SELECT session_id FROM streaming_sessions WHERE user_id = $1 AND usage_record_id IN (SELECT id FROM r))
       SELECT -sum(l.amount)::int AS credits FROM credit_ledger l
        WHERE l.usage_record_id IN (SELECT id FROM r)
           OR (l.usage_record_id IS NULL AND l.session_id IN (SELECT session_id FROM s))`,
      [u.id],
    );
    expect(ledger.rows[0].credits).toBe(23);
    const budgets = (await t.http.get('/api/budgets').set(u.auth).expect(200)).body;
    expect(budgets.items ?? budgets).toEqual([expect.objectContaining({ used: 23, held: 0 })]);
  });
});
