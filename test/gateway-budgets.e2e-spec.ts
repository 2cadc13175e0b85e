import { randomUUID } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { uniqueId } from './support/app.js';
import type { FixtureUser } from './support/fixtures.js';
import { type GatewayHarness, recordOf, startGateway } from './support/gateway.js';
import { expectInvariants } from './support/invariants.js';

/**
 * Budgets by scope through the gateway (docs/budgets.md "Naming scopes", docs/gateway.md): the
 * header `X-Budget-Scopes` names the scopes; a budget that cannot cover the worst-case hold refuses
 * in the route's provider shape before the upstream sees anything, and a request within its budget
 * is charged, counted against it and recorded with its scopes. The header never goes upstream.
 */
describe('gateway: X-Budget-Scopes', () => {
  let h: GatewayHarness;
  let user: FixtureUser;
  let key: string;

  beforeAll(async () => {
    h = await startGateway();
    user = await h.f.newUser({ credits: 100_000 });
    key = (await h.f.apiKey(user, { permissions: ['gateway'] })).key;
  });
  afterAll(() => h.close());
  afterEach(() => expectInvariants(h.t, h.users));

  const budget = async (body: Record<string, unknown>) => {
    const res = await h.t.http.post('/api/budgets').set(user.auth).send(body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { budgetId: string };
  };
  const view = async (budgetId: string) =>
    (await h.t.http.get(`/api/budgets/${budgetId}`).set(user.auth).expect(200)).body as Record<string, unknown>;
  const chat = (scopes: string, requestId = `gw-budget-${randomUUID()}`) =>
    fetch(`${h.origin}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'x-request-id': requestId,
        'x-budget-scopes': scopes,
      },
      body: JSON.stringify({ model: h.model, messages: [{ role: 'user', content: 'hi' }] }),
    });
  const messages = (scopes: string) =>
    fetch(`${h.origin}/v1/messages`, {
      method: 'POST',
      headers: {
        'x-api-key': key,
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
        'x-budget-scopes': scopes,
      },
      body: JSON.stringify({ model: h.model, max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }),
    });

  it('refuses a request its budget cannot cover with the provider-shaped 402, before the upstream', async () => {
    const project = uniqueId('tight').toLowerCase();
    const b = await budget({ budgetId: project, scope: { kind: 'project', id: project }, limitCredits: 1 });
    const before = h.standIn.requests.length;
    const available = await h.f.available(user.id);

    const openai = await chat(`project=${project};tag=search`);
    const openaiText = await openai.text();
    expect(openai.status, openaiText).toBe(402);
    expect(JSON.parse(openaiText)).toMatchObject({
      error: { message: expect.any(String), type: expect.any(String), code: 'BUDGET_EXCEEDED' },
    });
    const anthropic = await messages(`project=${project}`);
    const anthropicText = await anthropic.text();
    expect(anthropic.status, anthropicText).toBe(402);
    expect(JSON.parse(anthropicText)).toMatchObject({
      type: 'error',
      error: { type: expect.any(String), message: expect.stringMatching(/^BUDGET_EXCEEDED: /) },
    });

    // Nothing reached the upstream and nothing moved: no hold, no charge, no record.
    expect(h.standIn.requests).toHaveLength(before);
    expect(await h.f.available(user.id)).toBe(available);
    expect(await view(b.budgetId)).toMatchObject({ used: 0, held: 0, remaining: 1 });
    const records = await h.t.db.query(`SELECT count(*)::int AS n FROM usage_records WHERE scope_project = $1`, [
      project,
    ]);
    expect(records.rows[0].n).toBe(0);

    // A header that names no valid scope → 400 in the provider's shape, nothing upstream.
    const bad = await chat('project=');
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe('VALIDATION');
    expect(h.standIn.requests).toHaveLength(before);
  });

  it('charges a request within its budget, counts it there and records it with its scopes', async () => {
    const project = uniqueId('roomy').toLowerCase();
    const run = uniqueId('run').toLowerCase();
    const parent = await budget({ budgetId: project, scope: { kind: 'project', id: project }, limitCredits: 50_000 });
    const child = await budget({
      budgetId: run,
      scope: { kind: 'run', id: run },
      parentBudgetId: parent.budgetId,
      limitCredits: 20_000,
    });
    const requestId = `gw-budget-${randomUUID()}`;
    const res = await chat(`project=${project};run=${run};tag=search,eval`, requestId);
    expect(res.status, await res.clone().text()).toBe(200);
    await res.text();
    const upstream = h.standIn.requests.at(-1)!;
    expect(upstream.headers['x-budget-scopes']).toBeUndefined();

    const record = await recordOf(h, requestId);
    expect(record.credits).toBeGreaterThan(0);
    const row = (
      await h.t.db.query(
        `SELECT scope_project, scope_tags, scope_run, scope_session FROM usage_records WHERE id = $1`,
        [record.id],
      )
    ).rows[0];
    expect(row).toEqual({
      scope_project: project,
      scope_tags: ['search', 'eval'],
      scope_run: run,
      scope_session: null,
    });
    const listed = await h.t.http.get('/api/usage/records').query({ limit: 100 }).set(user.auth).expect(200);
    const item = (listed.body.items as { id: string; scopes: unknown }[]).find((r) => r.id === record.id);
    expect(item?.scopes).toEqual({ project, tag: ['search', 'eval'], run });

    // Both budgets of the chain count the charge; the hold is given back.
    expect(await view(child.budgetId)).toMatchObject({ used: record.credits, held: 0 });
    expect(await view(parent.budgetId)).toMatchObject({ used: record.credits, held: 0 });
    const stats = await h.t.http.get('/api/usage/stats?groupBy=project').set(user.auth).expect(200);
    expect(stats.body.byScope[project]).toBe(record.credits);
  });
});
