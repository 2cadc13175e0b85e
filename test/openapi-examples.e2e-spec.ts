import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DOMAIN_ERROR_STATUS } from '../src/common/errors/domain-error.js';
import { REASON_PHRASE } from '../src/common/errors/error-examples.js';
import { EmailWorker } from '../src/notifications/email.worker.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import {
  type Body,
  bumped,
  errorExamples,
  freshIds,
  type Located,
  type NamedExample,
  type OpenApiDocument,
  operationsOf,
  requestExamples,
  sameError,
  SchemaValidator,
  successStatus,
} from './support/openapi-document.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';

/**
 * The document's examples are true: every request example is accepted by the running service with
 * the documented success status, and each documented error example matches what the operation really
 * answers for that status. A new route needs nothing here beyond its own examples (`@ApiBody({
 * examples })`); a fixture below only when its examples refer to something that must exist first.
 */
const CALLER = 'alice'; // the user the examples speak of
const MODEL = 'anthropic.claude-3-haiku-20240307-v1:0';
const caller = bearer(token({ sub: CALLER, role: 'admin', email: 'alice@example.com', username: CALLER }));

let t: TestApp;
let own: OwnDatabase;
let exportDir: string;
let doc: OpenApiDocument;
let ops: Located[];
let schemas: SchemaValidator;

type Headers = Record<string, string>;

function send(
  method: string,
  url: string,
  options: { headers?: Headers; body?: unknown; raw?: { type: string; text: string } } = {},
) {
  let req = t.http[method as 'get'](url).set(options.headers ?? caller);
  if (options.raw) req = req.set('Content-Type', options.raw.type).send(options.raw.text);
  // A body given as text is a CSV report (the only text body the API takes).
  else if (typeof options.body === 'string') req = req.set('Content-Type', 'text/csv').send(options.body);
  else if (options.body !== undefined)
    req = req.set('Content-Type', 'application/json').send(JSON.stringify(options.body));
  return req;
}

async function ensureSession(sessionId: unknown): Promise<void> {
  const res = await send('post', '/api/streaming-sessions/initialize', {
    body: { sessionId, modelId: MODEL, estimatedTokens: 1000 },
  });
  if (res.status !== 201 && res.body?.code !== 'SESSION_EXISTS') throw new Error(`fixture session: ${res.status}`);
}

/** The feature the feature and entitlement examples speak of (created by createFeature's example too). */
async function ensureFeature(): Promise<void> {
  const res = await send('post', '/api/features', {
    body: { featureKey: 'image.generations', name: 'Image generations', type: 'metered' },
  });
  if (res.status !== 201 && res.body?.code !== 'FEATURE_EXISTS') throw new Error(`fixture feature: ${res.status}`);
}

/** The plans the plan and subscription examples speak of (pro; free, a change's), existing and active. */
async function ensurePlan(): Promise<void> {
  await send('post', '/api/plans', { body: { id: 'pro', name: 'Pro', credits: 5000, period: 'month' } });
  await send('patch', '/api/plans/pro', { body: { isActive: true } }).expect(200);
  await send('post', '/api/plans', { body: { id: 'free', name: 'Free', credits: 100, period: 'month' } });
  await send('patch', '/api/plans/free', { body: { isActive: true } }).expect(200);
}

async function ensureSubscription(): Promise<Record<string, string>> {
  await ensurePlan();
  await send('put', `/api/users/${CALLER}/subscription`, { body: { planId: 'pro' } }).expect(200);
  return {};
}

/** A usage record in the review queue: a streamed answer that overran a nearly empty balance. */
async function shortfallRecord(): Promise<Record<string, string>> {
  const userId = uniqueId('review');
  await send('post', '/api/credits/allocate', {
    body: { userId, credits: 2, email: `${userId}@example.com`, username: userId },
  }).expect(201);
  const auth = bearer(token({ sub: userId }));
  const init = await send('post', '/api/streaming-sessions/initialize', {
    headers: auth,
    body: { modelId: MODEL, estimatedTokens: 1000 },
  }).expect(201);
  await send('post', '/api/streaming-sessions/finalize', {
    headers: auth,
    body: { sessionId: init.body.sessionId, actualTokens: 100_000 },
  }).expect(200);
  const { rows } = await t.db.query(`SELECT usage_record_id FROM streaming_sessions WHERE session_id = $1`, [
    init.body.sessionId,
  ]);
  return { id: rows[0].usage_record_id as string };
}

/** A usage record of the caller's, priced from tokens, for a correction's examples. */
async function correctableRecord(): Promise<Record<string, string>> {
  await send('post', '/api/credits/allocate', { body: { userId: CALLER, credits: 100 } }).expect(201);
  const res = await send('post', '/api/usage/record', {
    body: { service: 'chat', operation: 'completion', modelId: MODEL, tokens: 1000 },
  }).expect(201);
  return { id: res.body.id as string };
}

async function webhook(): Promise<Record<string, string>> {
  const res = await send('post', '/api/webhooks', {
    body: { url: 'https://example.com/webhooks/fixture', events: ['*'] },
  });
  if (res.status !== 201) throw new Error(`fixture webhook: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id as string };
}

/** A delivery that failed (as if 3 days of attempts had): the test event's, marked failed. */
async function failedDelivery(): Promise<Record<string, string>> {
  const { id } = await webhook();
  await send('post', `/api/webhooks/${id}/test`).expect(202);
  const { rows } = await t.db.query(
    `UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL WHERE endpoint_id = $1 RETURNING id`,
    [id],
  );
  return { id: rows[0].id as string };
}

/** A purchase of the caller's, pending or paid (the purchase routes' examples name one by id). */
async function purchase(paid: boolean): Promise<Record<string, string>> {
  const res = await send('post', '/api/purchases', {
    body: { userId: CALLER, credits: 1000, amount: '10.00', currency: 'usd', provider: 'stripe' },
  }).expect(201);
  if (paid) await send('post', `/api/purchases/${res.body.id}/paid`, { body: {} }).expect(200);
  return { id: res.body.id as string };
}

/** An open auto-recharge attempt of the caller's account (as a take below its threshold opens one). */
async function openAttempt(): Promise<Record<string, string>> {
  await t.db.query(
    `UPDATE auto_recharge_attempts SET status = 'failed', closed_at = now()
      WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) AND status = 'open'`,
    [CALLER],
  );
  const { rows } = await t.db.query(
    `INSERT INTO auto_recharge_attempts (account_id, credits) VALUES ((SELECT account_id FROM accounts WHERE user_id = $1), 1000) RETURNING id`,
    [CALLER],
  );
  return { id: rows[0].id as string };
}

/** The org the org examples speak of (acme, owned by the caller) with bob, a user, as a member when `member`. */
async function ensureOrg(member: boolean): Promise<Record<string, string>> {
  await send('get', '/api/users/me', { headers: bearer(token({ sub: 'bob' })) }).expect(200);
  const org = await send('post', '/api/orgs', { body: { orgId: 'acme', name: 'Acme Inc.', ownerUserId: CALLER } });
  if (org.status !== 201 && org.body?.code !== 'ORG_EXISTS') throw new Error(`fixture org: ${org.status}`);
  if (member) await send('put', '/api/orgs/acme/members/bob', { body: { role: 'member' } }).expect(200);
  return {};
}

async function ensureOrgSubscription(): Promise<Record<string, string>> {
  await ensurePlan();
  await ensureOrg(false);
  await send('put', '/api/orgs/acme/subscription', { body: { planId: 'pro' } }).expect(200);
  return {};
}

/** The package the purchase and package examples name (starter), on sale. */
async function ensurePackage(): Promise<Record<string, string>> {
  const res = await send('post', '/api/packages', {
    body: {
      packageId: 'starter',
      name: 'Starter',
      credits: 1000,
      bonusCredits: 100,
      price: { amount: '10.00', currency: 'usd' },
    },
  });
  if (res.status !== 201 && res.body?.code !== 'PACKAGE_EXISTS') throw new Error(`fixture package: ${res.status}`);
  await send('patch', '/api/packages/starter', { body: { active: true } }).expect(200);
  return {};
}

/**
 * The code the promotion examples name, redeemable by the caller as often as the examples send it,
 * and the caller's refused redemptions (the error checks provoke some) forgotten.
 */
async function ensurePromotion(): Promise<Record<string, string>> {
  const res = await send('post', '/api/promotions', { body: { code: 'LAUNCH-2026', credits: 500, expiryDays: 30 } });
  if (res.status !== 201 && res.body?.code !== 'PROMOTION_EXISTS') throw new Error(`fixture promotion: ${res.status}`);
  await t.db.query(
    `UPDATE promotions SET active = true, per_account = 1000000, max_redemptions = NULL WHERE code = 'LAUNCH-2026'`,
  );
  await t.db.query(`DELETE FROM promotion_failures WHERE principal = $1`, [`user:${CALLER}`]);
  return {};
}

/** An email of the caller's (queued by the event's trigger), and a valid unsubscribe link's token. */
async function email(): Promise<Record<string, string>> {
  const { rows: events } = await t.db.query(
    `SELECT emit_event('balance.depleted', $1::varchar, jsonb_build_object('userId', $1::varchar)) AS id`,
    [CALLER],
  );
  const { rows } = await t.db.query(`SELECT id FROM email_notifications WHERE event_id = $1`, [events[0].id]);
  return { id: rows[0].id as string };
}

/** Operations that answer their success only to a credential of their own: a portal session's read. */
const CALLERS: Record<string, () => Promise<Headers>> = {
  getPortalSession: async () =>
    bearer((await send('post', '/api/portal/sessions', { body: { userId: CALLER } })).body.token as string),
};

/** State an operation's examples refer to; returns path parameters to use instead of their examples. */
/** A reconciliation of the upload route's own example report (uploaded again: the same one). */
async function reconciliation(): Promise<Record<string, string>> {
  const upload = ops.find((o) => o.op.operationId === 'createReconciliation')!;
  const [[, example]] = requestExamples(upload);
  const res = await send('post', upload.path, { body: example.value });
  if (res.status > 201) throw new Error(`fixture reconciliation: ${res.status}`);
  return { id: res.body.id };
}

const FIXTURES: Record<string, (body: Body | undefined) => Promise<Record<string, string>>> = {
  finalizeSession: async (body) => (await ensureSession(body?.sessionId), {}),
  abortSession: async (body) => (await ensureSession(body?.sessionId), {}),
  voidAllocation: async () => {
    const res = await send('post', '/api/credits/allocate', { body: { userId: CALLER, credits: 10 } });
    return { id: res.body.id };
  },
  getApiKey: async () => ({ id: (await send('post', '/api/api-keys', { body: { name: 'fixture' } })).body.id }),
  revokeApiKey: async () => ({ id: (await send('post', '/api/api-keys', { body: { name: 'fixture' } })).body.id }),
  updateApiKey: async () => ({ id: (await send('post', '/api/api-keys', { body: { name: 'fixture' } })).body.id }),
  endPortalSession: async () => ({
    id: (await send('post', '/api/portal/sessions', { body: { userId: CALLER } })).body.id,
  }),
  updatePlan: async () => (await ensurePlan(), {}),
  updateFeature: async () => (await ensureFeature(), {}),
  setEntitlement: async () => (await ensureFeature(), {}),
  // A change at the period's end needs a live subscription (each example runs on the one before).
  putSubscription: ensureSubscription,
  previewSubscription: ensureSubscription,
  getSubscription: ensureSubscription,
  deleteSubscription: ensureSubscription,
  resolveUsageRecord: shortfallRecord,
  correctUsageRecord: correctableRecord,
  getWebhook: webhook,
  updateWebhook: webhook,
  deleteWebhook: webhook,
  rotateWebhookSecret: webhook,
  testWebhook: webhook,
  listWebhookDeliveries: webhook,
  retryWebhookDelivery: failedDelivery,
  transferCredits: () => ensureOrg(false),
  getReconciliation: reconciliation,
  getRerate: async () => {
    const body = {
      rerateId: uniqueId('rerate-'),
      from: '2026-11-01T00:00:00.000Z',
      to: '2026-11-02T00:00:00.000Z',
      rules: [{ modelId: 'fixture-model', pricePer1kTokens: '1' }],
      reason: 'fixture',
    };
    return { id: (await send('post', '/api/pricing/rerates', { body })).body.id };
  },
  getPurchase: () => purchase(true),
  getPurchaseRefundable: () => purchase(true),
  markPurchasePaid: () => purchase(false),
  failPurchase: () => purchase(false),
  expirePurchase: () => purchase(false),
  refundPurchase: () => purchase(true),
  purchaseProviderEvent: () => purchase(true),
  createPurchase: ensurePackage,
  updatePackage: ensurePackage,
  updatePromotion: ensurePromotion,
  listPromotionRedemptions: ensurePromotion,
  redeemPromotion: ensurePromotion,
  setAutoRecharge: () => ensureOrg(false),
  failAutoRechargeAttempt: openAttempt,
  putOrgMember: () => ensureOrg(false),
  getOrgMember: () => ensureOrg(true),
  removeOrgMember: () => ensureOrg(true),
  putOrgSubscription: ensureOrgSubscription,
  previewOrgSubscription: ensureOrgSubscription,
  getOrgSubscription: ensureOrgSubscription,
  deleteOrgSubscription: ensureOrgSubscription,
  getNotification: email,
  unsubscribeEmail: async () => ({ token: t.app.get(EmailWorker).tokens.sign(CALLER, 'balance.low') }),
  setOrgModels: () => ensureOrg(false),
  deleteAccountPrice: async () => {
    const later = new Date(Date.now() + 86_400_000).toISOString();
    const body = { userId: CALLER, modelId: `fixture-${randomUUID()}`, discountPercent: '1', effectiveFrom: later };
    return { id: (await send('post', '/api/pricing/accounts', { body })).body.id };
  },
};

/** The query of operations whose parameters include required ones (their examples, as one query string). */
const QUERIES: Record<string, string> = {
  getFinanceRollForward: 'currency=usd&from=2026-01-01&to=2026-04-01',
  listFxRates: 'from=2026-11-01&to=2026-12-01',
  getFinanceLiability: 'currency=usd',
};

function urlOf(located: Located, pathValues: Record<string, string> = {}, query = ''): string {
  let url = located.path;
  for (const p of located.op.parameters ?? []) {
    if (p.in !== 'path') continue;
    const value = pathValues[p.name] ?? p.example ?? p.schema?.example;
    url = url.replace(`{${p.name}}`, encodeURIComponent(String(value)));
  }
  return query ? `${url}?${query}` : url;
}

beforeAll(async () => {
  // A database of its own: the examples put a package priced in usd on sale, which is a floor under
  // every usd purchase (docs/selling.md), and other spec files buy in usd on the shared database.
  own = await ownDatabase('openapi_examples');
  // Exports on, so POST /api/exports/run can answer its documented 202 (into a directory of its own);
  // no scheduled jobs, so the minute's scheduled export (due at once on a database that has had none)
  // never runs beside the example's and turns its 202 into 409 EXPORT_RUNNING.
  exportDir = await mkdtemp(path.join(tmpdir(), 'accounting-examples-exports-'));
  t = await startTestApp({
    DATABASE_URL: own.url,
    THROTTLE_LIMIT: '10000000',
    EXPORT_DIR: exportDir,
    JOBS_ENABLED: 'false',
    // The service's default: the catalogue's routes answer their examples (import needs its data).
    PRICE_CATALOG: 'true',
  });
  doc = (await t.http.get('/api/docs-json').expect(200)).body as OpenApiDocument;
  ops = operationsOf(doc);
  schemas = new SchemaValidator(doc);
  await send('post', '/api/credits/allocate', {
    body: { userId: CALLER, credits: 1_000_000, email: 'alice@example.com', username: CALLER },
  }).expect(201);
  // The person the erasure's example erases (not the caller, whom every other example needs).
  await send('post', '/api/credits/allocate', {
    body: { userId: 'frank', credits: 10, email: 'frank@example.com', username: 'frank' },
  }).expect(201);
});
afterAll(async () => {
  await t?.close();
  if (exportDir) await rm(exportDir, { recursive: true, force: true });
  await own?.drop();
});

describe('the OpenAPI examples', () => {
  it('every operation has a readable id, and every request body named examples', () => {
    const problems: string[] = [];
    for (const located of ops) {
      if (!/^[a-z][a-zA-Z0-9]+$/.test(located.op.operationId))
        problems.push(`${located.name}: give it a camelCase operationId in @ApiOperation (e.g. recordUsage)`);
      if (located.op.requestBody && requestExamples(located).length === 0)
        problems.push(
          `${located.name} has no request example: add named examples the service accepts, ` +
            `@ApiBody({ type: …, examples: { name: { summary, value } } })`,
        );
    }
    expect(problems).toEqual([]);
  });

  it('every request example is accepted with the documented success status and schema', async () => {
    const problems: string[] = [];
    let sent = 0;
    for (const located of ops) {
      const expected = successStatus(located.op);
      const examples: [string, NamedExample | undefined][] = located.op.requestBody
        ? requestExamples(located)
        : [['(parameters)', undefined]];
      for (const [name, example] of examples) {
        const body = example?.value as Body | undefined;
        const pathValues = (await FIXTURES[located.op.operationId]?.(body)) ?? {};
        const headers = await CALLERS[located.op.operationId]?.();
        const res = await send(located.method, urlOf(located, pathValues, QUERIES[located.op.operationId] ?? ''), {
          body,
          headers,
        });
        sent++;
        const where = `${located.name} example ${name}`;
        if (res.status !== expected) {
          problems.push(`${where}: expected ${expected}, got ${res.status} ${JSON.stringify(res.body)}`);
          continue;
        }
        const schema = located.op.responses[expected].content?.['application/json']?.schema;
        const problem = schema && schemas.problem(`${located.op.operationId} ${expected}`, schema, res.body);
        if (problem) problems.push(`${where}: the answer does not match its schema: ${problem}`);
      }
    }
    expect(problems).toEqual([]);
    expect(sent).toBeGreaterThan(ops.length);
  });

  it('every error status has examples that fit its schema, its status and the code mapping', () => {
    const problems: string[] = [];
    for (const located of ops) {
      for (const [status, response] of Object.entries(located.op.responses)) {
        const media = response.content?.['application/json'];
        if (Number(status) < 400 || !media?.schema?.$ref) continue;
        const examples = Object.entries(media.examples ?? {});
        if (examples.length === 0) problems.push(`${located.name} ${status}: no example`);
        for (const [name, { value }] of examples) {
          const body = value as { statusCode?: number; error?: string; code?: keyof typeof DOMAIN_ERROR_STATUS };
          const where = `${located.name} ${status} example ${name}`;
          if (body.statusCode !== Number(status)) problems.push(`${where}: statusCode ${body.statusCode}`);
          if (body.error !== REASON_PHRASE[Number(status)]) problems.push(`${where}: error ${body.error}`);
          if (body.code !== undefined && DOMAIN_ERROR_STATUS[body.code] !== Number(status))
            problems.push(`${where}: code ${body.code} is answered with ${DOMAIN_ERROR_STATUS[body.code]}`);
          const problem = schemas.problem(`${located.op.operationId} ${status}`, media.schema, value);
          if (problem) problems.push(`${where}: does not fit the schema: ${problem}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('the real errors match the documented error examples', async () => {
    const problems: string[] = [];
    const checked = new Map<string, Set<string>>();
    const compare = (located: Located, status: string, how: string, res: { status: number; body: unknown }) => {
      const where = `${located.name} ${how}`;
      if (res.status !== Number(status)) {
        problems.push(`${where}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
        return;
      }
      const examples = errorExamples(located, status);
      if (examples.length === 0) {
        problems.push(
          located.op.responses[status]
            ? `${where}: answered ${status}, which the document lists without an example`
            : `${where}: answered ${status}, which the document does not list`,
        );
        return;
      }
      const real = res.body as Body;
      const fits = examples.some(({ value }) => sameError(value as Body, real));
      if (!fits)
        problems.push(
          `${where}: ${JSON.stringify(real)} matches none of the ${status} examples ` +
            JSON.stringify(examples.map((e) => e.value)),
        );
      checked.set(located.op.operationId, (checked.get(located.op.operationId) ?? new Set()).add(status));
    };

    const scopedKey = await apiKeyWith(['pricing:read']);
    const otherKey = await apiKeyWith(['credits:read']);
    for (const located of ops) {
      const { op, method } = located;
      const documented = (s: string) => op.responses[s] !== undefined;
      const first = requestExamples(located)[0]?.[1].value as Body | undefined;
      const pathValues = (await FIXTURES[op.operationId]?.(first)) ?? {};
      const url = urlOf(located, pathValues);

      if ((op.security ?? []).length > 0 && documented('401'))
        compare(located, '401', 'without credentials', await send(method, url, { headers: {}, body: first }));

      const role = /role (supervisor|admin)/.exec(op.responses['403']?.description ?? '')?.[1];
      const scope = op['x-required-scope'];
      if (documented('403')) {
        if (role && op.operationId !== 'verifyApiKey') {
          const user = bearer(token({ sub: uniqueId('plain'), role: 'user' }));
          compare(located, '403', 'as a plain user', await send(method, url, { headers: user, body: first }));
        } else if (scope && scope !== 'any') {
          const key = scope === 'pricing:read' ? otherKey : scopedKey;
          compare(
            located,
            '403',
            'with an API key lacking the scope',
            await send(method, url, { headers: key, body: first }),
          );
        } else if (!(op.security ?? []).some((s) => 'api-key' in s)) {
          compare(located, '403', 'with an API key', await send(method, url, { headers: scopedKey, body: first }));
        }
      }

      if (first)
        compare(
          located,
          '400',
          'with an unknown body field',
          await send(method, url, { body: { ...first, notAField: 1 } }),
        );
      else if (op.parameters?.some((p) => p.in === 'query'))
        compare(
          located,
          '400',
          'with an unknown query field',
          await send(method, urlOf(located, pathValues, 'notAField=1')),
        );

      // The batch route takes bodies up to BATCH_BODY_LIMIT (2 MB), every other one BODY_LIMIT (100 KB).
      const limit = /BATCH_BODY_LIMIT/.test(op.responses['413']?.description ?? '') ? 2048 : 100;
      const big = { raw: { type: 'application/json', text: JSON.stringify({ pad: 'x'.repeat(2 * limit * 1024) }) } };
      compare(located, '413', 'with a body over its limit', await send(method, url, big));
      compare(
        located,
        '415',
        'with a text/plain body',
        await send(method, url, { raw: { type: 'text/plain', text: 'hi' } }),
      );

      if (method === 'post' && first) {
        // The interceptor compares the body before anything validates it: any other body is refused.
        const key = { ...caller, 'Idempotency-Key': randomUUID() };
        const fresh = freshIds(first);
        await FIXTURES[op.operationId]?.(fresh);
        const original = await send(method, url, { headers: key, body: fresh });
        if (original.status < 300) {
          const reused = await send(method, url, { headers: key, body: { ...fresh, anotherField: 1 } });
          compare(located, '422', 'with a reused Idempotency-Key', reused);
        }
      }

      if (documented('402') && first) {
        const brokeId = uniqueId('broke');
        const broke = bearer(token({ sub: brokeId }));
        const body = freshIds(first);
        // A metering example that names its billed user is a service principal's call: it bills the
        // broke user so (the account exists once the user has made a request).
        const named = typeof body === 'object' && body !== null && 'userId' in body;
        // A transfer's example names its source: the broke user's account pays.
        const source = typeof body === 'object' && body !== null && 'from' in body;
        if (named || source) await send('get', '/api/users/me', { headers: broke }).expect(200);
        const res = await send(
          method,
          url,
          named
            ? { body: { ...body, userId: brokeId } }
            : source
              ? { body: { ...body, from: { userId: brokeId } } }
              : { headers: broke, body },
        );
        compare(located, '402', 'as a caller without credits', res);
      }

      if (documented('404')) {
        const unknown = unknownTarget(located, first, pathValues);
        if (unknown)
          compare(located, '404', `for ${unknown.what}`, await send(method, unknown.url, { body: unknown.body }));
      }

      if (documented('409') && first) {
        // Sent again with other amounts: settled sessions, taken ids and overlapping rules conflict.
        for (const [, example] of requestExamples(located)) {
          const res = await send(method, url, { body: bumped(example.value as Body) });
          if (res.status === 409) compare(located, '409', 'sent again with other amounts', res);
        }
      }
    }
    expect(problems).toEqual([]);
    // Everyone's 401, 413 and 415 were provoked, and the route-specific statuses of the core routes.
    for (const id of ['recordUsage', 'initializeSession', 'finalizeSession', 'abortSession', 'allocateCredits'])
      expect([...(checked.get(id) ?? [])].sort(), id).toEqual(
        expect.arrayContaining(['400', '401', '403', '413', '415', '422']),
      );
    expect([...(checked.get('finalizeSession') ?? [])]).toEqual(expect.arrayContaining(['404', '409']));
    expect([...(checked.get('recordUsage') ?? [])]).toContain('402');
  });
});

describe('the OpenAPI error examples of configured refusals', () => {
  it('PRICING_STRICT: an unknown model answers each priced operation its documented 422', async () => {
    const strict = await startTestApp({ DATABASE_URL: own.url, PRICING_STRICT: 'true', JOBS_ENABLED: 'false' });
    try {
      const problems: string[] = [];
      let checked = 0;
      for (const located of ops) {
        const examples = errorExamples(located, '422').map((e) => e.value as Body);
        const unknown = examples.find((e) => e.code === 'PRICING_UNKNOWN_MODEL');
        if (!unknown) continue;
        const modelId = String(unknown.modelId);
        const bodies = requestExamples(located).map(([, e]) => e.value as Body);
        const first = bodies.find((b) => 'modelId' in b) ?? bodies[0];
        const pathValues = { modelId };
        const body = first && 'modelId' in first ? freshIds({ ...first, modelId }) : first;
        if (located.op.operationId === 'finalizeSession' || located.op.operationId === 'abortSession') continue;
        const res = await strict.http[located.method as 'get'](urlOf(located, pathValues))
          .set(caller)
          .send(body ?? {});
        checked++;
        if (res.status !== 422 || !examples.some((e) => sameError(e, res.body)))
          problems.push(`${located.name}: ${res.status} ${JSON.stringify(res.body)} matches no 422 example`);
      }
      expect(problems).toEqual([]);
      expect(checked).toBeGreaterThanOrEqual(4);
    } finally {
      await strict.close();
    }
  });

  it('THROTTLE_LIMIT: the request over the limit answers the documented 429', async () => {
    const limited = await startTestApp({ DATABASE_URL: own.url, THROTTLE_LIMIT: '2', JOBS_ENABLED: 'false' });
    try {
      const located = ops.find((o) => o.op.operationId === 'getBalance')!;
      const user = bearer(token({ sub: uniqueId('throttled') }));
      const answers: { status: number; body: Body }[] = [];
      for (let i = 0; i < 3; i++) answers.push(await limited.http.get(located.path).set(user));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 429]);
      const examples = errorExamples(located, '429').map((e) => e.value as Body);
      expect(
        examples.some((e) => sameError(e, answers[2].body)),
        JSON.stringify(answers[2].body),
      ).toBe(true);
    } finally {
      await limited.close();
    }
  });
});

/** A request naming something that does not exist: a path id, a session, a user. */
function unknownTarget(located: Located, body: Body | undefined, pathValues: Record<string, string>) {
  const pathParams = (located.op.parameters ?? []).filter((p) => p.in === 'path');
  if (pathParams.length) {
    const values = { ...pathValues };
    for (const p of pathParams)
      values[p.name] = p.schema?.format === 'uuid' || p.name === 'id' ? randomUUID() : uniqueId('nobody');
    return { what: 'an unknown path id', url: urlOf(located, values), body };
  }
  // A body naming a user (a grant, or a service principal's metering) names an unknown one first: for
  // initialize an unknown sessionId is just a new session, an unknown billed user is the 404.
  if (body && 'userId' in body) {
    const { email: _e, username: _u, ...rest } = body;
    return { what: 'an unknown user', url: urlOf(located), body: { ...rest, userId: uniqueId('nobody') } };
  }
  if (body && 'from' in body)
    return { what: 'an unknown source', url: urlOf(located), body: { ...body, from: { userId: uniqueId('nobody') } } };
  if (body && 'sessionId' in body)
    return { what: 'an unknown session', url: urlOf(located), body: { ...body, sessionId: uniqueId('nosession') } };
  if (located.op.parameters?.some((p) => p.name === 'userId' && p.in === 'query'))
    return { what: 'an unknown user', url: urlOf(located, {}, `userId=${uniqueId('nobody')}`), body: undefined };
  return undefined;
}

async function apiKeyWith(permissions: string[]): Promise<Headers> {
  const res = await send('post', '/api/api-keys', { body: { name: `examples ${permissions}`, permissions } });
  return { 'X-API-Key': res.body.key as string };
}
