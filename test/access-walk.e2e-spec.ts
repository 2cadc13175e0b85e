import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_SCOPES } from '../src/auth/roles.js';
import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, type Principal, principal } from './support/fixtures.js';
import { type Located, type OpenApiDocument, operationsOf, requestExamples } from './support/openapi-document.js';

/**
 * The one access rule, walked over every operation of the OpenAPI document by callers who are
 * strangers to the account it names (docs/trust-model.md "Who may reach an account (the one access rule)"): an outsider's
 * JWT, an org member of too low a role, a user's portal token and an org's portal token (both of
 * another user and org), and another user's API key. Each answer is held to the rule: 404 for an
 * account (or an object of one) the caller may not see (a portal token too, whether or not the route
 * lets it in), 403 for a role too low, a staff route, a service principal's route, metering, and a
 * portal token or key the route does not let in. An
 * operation without a row in TABLE fails the test: a new route stays failing until its row says
 * what it reaches.
 */
type Caller = 'outsider' | 'low' | 'userPortal' | 'orgPortal' | 'key';
const CALLERS: Caller[] = ['outsider', 'low', 'userPortal', 'orgPortal', 'key'];

/**
 * What an operation reaches: `user` names alice's account (path or query `userId`), `org` acme's
 * (`orgId`); `object` an object by its id (an unknown one, as another account's answers); `own` the
 * caller's own account or none; `staff` a supervisor's or admin's route; `service` a service
 * principal's; `meters` a metering write (METERING_TRUST=service, the default).
 */
type Reach = 'user' | 'org' | 'object' | 'own' | 'staff' | 'service' | 'meters';
interface Row {
  reach: Reach;
  body?: Record<string, unknown>;
  /** Answers this row sets itself (`ok`: the route ran: neither 401, 403, 404 nor 5xx). */
  answers?: Partial<Record<Caller, number | 'ok'>>;
}

const TABLE: Record<string, Row> = {
  getMe: { reach: 'own' },
  listUsers: { reach: 'staff' },
  getUserOverview: { reach: 'user' },
  eraseUser: { reach: 'user', body: { reason: 'the access walk' } },
  createAccountPrice: { reach: 'staff' },
  listAccountPrices: { reach: 'org' },
  deleteAccountPrice: { reach: 'staff' },
  listCurrentPrices: { reach: 'own' },
  createPricingRule: { reach: 'staff' },
  getPricingHistory: { reach: 'staff' },
  getModelPrice: { reach: 'own' },
  importPricing: { reach: 'staff' },
  listPriceCatalog: { reach: 'staff' },
  importPriceCatalog: { reach: 'staff' },
  getBalance: { reach: 'own' },
  getUserBalance: { reach: 'user' },
  checkCredits: { reach: 'own' },
  calculateCredits: { reach: 'own' },
  allocateCredits: { reach: 'staff' },
  listAllocations: { reach: 'user' },
  voidAllocation: { reach: 'staff' },
  listLedger: { reach: 'user' },
  getRunway: { reach: 'user' },
  // The account is named in the body, which a portal token never reaches: the route does not let it in.
  createBudget: {
    reach: 'org',
    answers: { userPortal: 403, orgPortal: 403 },
    body: { budgetId: 'walk-budget', orgId: '{orgId}', scope: { kind: 'project', id: 'walk' }, limitCredits: 10 },
  },
  listBudgets: { reach: 'user' },
  getBudget: { reach: 'object' },
  updateBudget: { reach: 'object', body: { limitCredits: 5 } },
  deleteBudget: { reach: 'object' },
  getCreditSummary: { reach: 'staff' },
  reconcileCredits: { reach: 'staff' },
  setCreditLimits: { reach: 'user', body: { overdraftLimit: 0 } },
  getCreditLimits: { reach: 'user' },
  getAlertThresholds: { reach: 'user' },
  setAlertThresholds: { reach: 'user', body: { thresholds: [10] } },
  transferCredits: { reach: 'staff' },
  listTransfers: { reach: 'org' },
  // A write naming its account in the body: the read rule (404 to an outsider, 403 below managers),
  // and 403 to a portal token, as to any write of one naming another account in a body.
  setAutoRecharge: {
    reach: 'org',
    body: { orgId: '{orgId}', enabled: true, belowCredits: 500, rechargeCredits: 5000 },
    answers: { low: 403, userPortal: 403, orgPortal: 403 },
  },
  getAutoRecharge: { reach: 'org' },
  failAutoRechargeAttempt: { reach: 'service' },
  recordUsage: { reach: 'meters' },
  recordUsageBatch: { reach: 'meters' },
  getUsageStats: { reach: 'own' },
  getUserUsageStats: { reach: 'user' },
  getSystemUsageStats: { reach: 'staff' },
  listUsageRecords: { reach: 'user' },
  exportUsageRecordsCsv: { reach: 'user' },
  listReviewQueue: { reach: 'staff' },
  resolveUsageRecord: { reach: 'staff' },
  correctUsageRecord: { reach: 'object' },
  simulatePricing: { reach: 'staff' },
  createRerate: { reach: 'staff' },
  listRerates: { reach: 'staff' },
  getRerate: { reach: 'staff' },
  initializeSession: { reach: 'meters' },
  finalizeSession: { reach: 'meters' },
  abortSession: { reach: 'meters' },
  listActiveSessions: { reach: 'own' },
  listAllActiveSessions: { reach: 'staff' },
  listUserActiveSessions: { reach: 'user' },
  // A key of acme's: a member may make one (NOT_A_MEMBER for anyone else); a portal token of
  // another account may not (403).
  createApiKey: {
    reach: 'own',
    body: { name: 'walk', orgId: '{orgId}' },
    answers: { outsider: 403, low: 201, userPortal: 403, orgPortal: 403 },
  },
  listApiKeys: { reach: 'user' },
  verifyApiKey: { reach: 'staff' },
  getApiKey: { reach: 'object' },
  updateApiKey: { reach: 'object', body: { name: 'walk' } },
  revokeApiKey: { reach: 'object' },
  createFeature: { reach: 'staff' },
  listFeatures: { reach: 'own' },
  updateFeature: { reach: 'staff' },
  // The caller's own account (a body naming another is held to the same rule in test/features.e2e-spec.ts).
  checkEntitlement: { reach: 'own', body: { featureKey: 'walk.feature' } },
  listEntitlements: { reach: 'org' },
  setEntitlement: { reach: 'staff' },
  createPlan: { reach: 'staff' },
  listPlans: { reach: 'staff' },
  updatePlan: { reach: 'staff' },
  putSubscription: { reach: 'user', body: { planId: 'walk-plan' } },
  getSubscription: { reach: 'user' },
  previewSubscription: { reach: 'user', body: { planId: 'walk-plan' } },
  deleteSubscription: { reach: 'user' },
  createPurchase: { reach: 'service' },
  listPurchases: { reach: 'org' },
  getPurchase: { reach: 'object' },
  getPurchaseRefundable: { reach: 'object' },
  markPurchasePaid: { reach: 'service' },
  failPurchase: { reach: 'service' },
  expirePurchase: { reach: 'service' },
  refundPurchase: { reach: 'staff' },
  purchaseProviderEvent: { reach: 'service' },
  createPackage: { reach: 'staff' },
  setBillingCurrency: { reach: 'staff' },
  listPackages: { reach: 'own' },
  listActivePlans: { reach: 'own' },
  updatePackage: { reach: 'staff' },
  getFinanceRollForward: { reach: 'staff' },
  getFinanceLiability: { reach: 'staff' },
  putFxRates: { reach: 'staff' },
  listFxRates: { reach: 'staff' },
  createPromotion: { reach: 'staff' },
  listPromotions: { reach: 'staff' },
  updatePromotion: { reach: 'staff' },
  listPromotionRedemptions: { reach: 'staff' },
  // For acme: NOT_A_MEMBER to an outsider, 403 below its managers, 403 to another account's portal token.
  redeemPromotion: {
    reach: 'own',
    body: { code: 'NO-SUCH-CODE', orgId: '{orgId}' },
    answers: { outsider: 403, low: 403, userPortal: 403, orgPortal: 403 },
  },
  createReconciliation: { reach: 'staff' },
  listReconciliations: { reach: 'staff' },
  runExport: { reach: 'staff' },
  listExportRuns: { reach: 'staff' },
  getReconciliation: { reach: 'staff' },
  getStatement: { reach: 'own' },
  getUserStatement: { reach: 'user' },
  getOrgStatement: { reach: 'org' },
  createOrg: { reach: 'staff' },
  listOrgs: { reach: 'staff' },
  listMyOrgs: { reach: 'own' },
  setOrgModels: { reach: 'org', body: { models: null } },
  getOrg: { reach: 'org' },
  putOrgMember: { reach: 'org', body: { role: 'member' } },
  getOrgMember: { reach: 'org' },
  removeOrgMember: { reach: 'org' },
  listOrgMembers: { reach: 'org' },
  getOrgBalance: { reach: 'org' },
  listOrgAllocations: { reach: 'org' },
  listOrgLedger: { reach: 'org' },
  getOrgUsageStats: { reach: 'org' },
  listOrgUsageRecords: { reach: 'org' },
  setOrgLimits: { reach: 'org', body: { overdraftLimit: 0 } },
  getOrgLimits: { reach: 'org' },
  setOrgAlertThresholds: { reach: 'org', body: { thresholds: [10] } },
  putOrgSubscription: { reach: 'org', body: { planId: 'walk-plan' } },
  getOrgSubscription: { reach: 'org' },
  previewOrgSubscription: { reach: 'org', body: { planId: 'walk-plan' } },
  deleteOrgSubscription: { reach: 'org' },
  listEvents: { reach: 'staff' },
  createWebhook: { reach: 'staff' },
  listWebhooks: { reach: 'staff' },
  getWebhook: { reach: 'staff' },
  updateWebhook: { reach: 'staff' },
  deleteWebhook: { reach: 'staff' },
  rotateWebhookSecret: { reach: 'staff' },
  testWebhook: { reach: 'staff' },
  listWebhookDeliveries: { reach: 'staff' },
  retryWebhookDelivery: { reach: 'staff' },
  getNotificationPreferences: { reach: 'own' },
  putNotificationPreferences: { reach: 'own' },
  listNotifications: { reach: 'user' },
  getNotification: { reach: 'staff' },
  listAuditEntries: { reach: 'staff' },
  createPortalSession: { reach: 'service' },
  // The caller's portal session: none for a JWT (404).
  getPortalSession: { reach: 'own', answers: { outsider: 404, low: 404 } },
  endPortalSession: { reach: 'service' },
};

type Op = Located['op'] & { 'x-portal'?: string; 'x-account-access'?: { org?: string } };

/** Whether the route lets the caller in at all (else 403, before any account is looked at). */
function admits(caller: Caller, op: Op, row: Row): boolean {
  if (row.reach === 'staff' || row.reach === 'service' || row.reach === 'meters') return false;
  if (caller === 'userPortal' || caller === 'orgPortal') return op['x-portal'] !== undefined;
  if (caller === 'key') {
    const scope = op['x-required-scope'];
    return scope === 'any' || (DEFAULT_SCOPES as readonly string[]).includes(scope ?? '');
  }
  return true;
}

/** The rule's answer to a stranger (the low member: a member of acme below the route's role). */
function expected(caller: Caller, op: Op, row: Row): number | 'ok' {
  const own = row.answers?.[caller];
  if (own !== undefined) return own;
  // Another account named to a portal token: the outsider's 404 before asking whether the route
  // lets portal tokens in at all, as the same user's JWT gets.
  const portal = caller === 'userPortal' || caller === 'orgPortal';
  if (portal && (row.reach === 'user' || row.reach === 'org')) return 404;
  if (!admits(caller, op, row)) return 403;
  if (row.reach === 'own') return caller === 'orgPortal' && op['x-portal'] === 'own' ? 404 : 'ok';
  if (row.reach === 'org' && caller === 'low') return op['x-account-access']?.org === 'member' ? 200 : 403;
  return 404;
}

describe('every route, walked by strangers to the account it names', () => {
  let t: TestApp;
  let doc: OpenApiDocument;
  const as = {} as Record<Caller, { Authorization: string } | { 'X-API-Key': string }>;
  let alice: Principal;
  let owner: Principal;
  const orgId = uniqueId('walk').toLowerCase();

  beforeAll(async () => {
    t = await startTestApp({ METERING_TRUST: 'service' });
    const f = new Fixtures(t, { prefix: 'walk' });
    const admin = principal('admin', 'walk-admin');
    alice = principal('user', 'walk-alice');
    owner = principal('user', 'walk-owner');
    const otto = principal('user', 'walk-otto');
    const mem = principal('user', 'walk-mem');
    for (const u of [admin, alice, owner, otto, mem]) await t.http.get('/api/users/me').set(u.auth).expect(200);
    await f.grant(alice.id, 100);
    const ottoOrg = uniqueId('walko').toLowerCase();
    for (const [org, by] of [
      [orgId, owner],
      [ottoOrg, otto],
    ] as const)
      await t.http.post('/api/orgs').set(admin.auth).send({ orgId: org, name: org, ownerUserId: by.id }).expect(201);
    await t.http.put(`/api/orgs/${orgId}/members/${mem.id}`).set(admin.auth).send({ role: 'member' }).expect(200);
    const session = async (body: Record<string, unknown>) =>
      bearer((await t.http.post('/api/portal/sessions').set(admin.auth).send(body).expect(201)).body.token as string);
    const key = await t.http.post('/api/api-keys').set(otto.auth).send({ name: 'walk' }).expect(201);
    Object.assign(as, {
      outsider: otto.auth,
      low: mem.auth,
      userPortal: await session({ userId: otto.id }),
      orgPortal: await session({ userId: otto.id, orgId: ottoOrg }),
      key: { 'X-API-Key': key.body.key as string },
    });
    doc = (await t.http.get('/api/docs-json').expect(200)).body as OpenApiDocument;
  }, 60_000);
  afterAll(() => t?.close());

  const secured = () => operationsOf(doc).filter((l) => l.op.security?.length);

  it('has a row for every operation of the document, and none for an operation it lacks', () => {
    const ids = secured().map((l) => l.op.operationId);
    expect(
      ids.filter((id) => !TABLE[id]),
      'operations with no row in TABLE',
    ).toEqual([]);
    expect(Object.keys(TABLE).filter((id) => !ids.includes(id))).toEqual([]);
  });

  it('answers each stranger as the rule says', async () => {
    const problems: string[] = [];
    let calls = 0;
    for (const located of secured()) {
      const row = TABLE[located.op.operationId];
      if (!row) continue;
      const op = located.op as Op;
      let url = located.path
        .replace('{userId}', row.reach === 'org' ? owner.id : alice.id)
        .replace('{orgId}', orgId)
        .replace(/\{(\w+)\}/g, (_m, name: string) =>
          name === 'id' ? '0193a1f0-7c1e-7a34-9d2b-5f3c2e1a9b70' : `walk-${name.toLowerCase()}`,
        );
      const query = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
      if (!located.path.includes('{') && row.reach === 'user' && query.includes('userId')) url += `?userId=${alice.id}`;
      if (!located.path.includes('{orgId}') && row.reach === 'org' && query.includes('orgId')) url += `?orgId=${orgId}`;
      const example = requestExamples(located)[0]?.[1].value;
      const body = JSON.parse(
        JSON.stringify(row.body ?? (typeof example === 'object' && example !== null ? example : undefined) ?? {}),
      ) as Record<string, unknown>;
      if (row.reach === 'org' && located.method !== 'get' && 'orgId' in body) body.orgId = orgId;
      for (const [k, v] of Object.entries(body)) if (v === '{orgId}') body[k] = orgId;
      for (const caller of CALLERS) {
        const want = expected(caller, op, row);
        let req = t.http[located.method as 'get'](url).set(as[caller]);
        if (located.method !== 'get' && located.method !== 'delete') req = req.send(body);
        const res = await req;
        calls++;
        const ran = ![401, 403, 404].includes(res.status) && res.status < 500;
        if (want === 'ok' ? !ran : res.status !== want)
          problems.push(
            `${located.name} ${url} as ${caller}: expected ${want}, got ${res.status} ${JSON.stringify(res.body).slice(0, 160)}`,
          );
      }
    }
    expect(problems).toEqual([]);
    expect(calls).toBeGreaterThan(500);
  });
});
