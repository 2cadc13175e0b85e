import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, type Principal, principal } from './support/fixtures.js';
import { errorExamples, type OpenApiDocument, operationsOf, sameError } from './support/openapi-document.js';

/**
 * One access rule, route by route (docs/trust-model.md, "Who may reach an account (the one access rule)"): every route
 * that names an account in its path or query, found in the OpenAPI document, is called on a user's
 * account (alice's) or an org's (acme's) by an outsider, the account's holder or a member below the
 * route's org role, an org reader, a supervisor and an admin, under both trust modes. An outsider
 * always gets 404 (as for no such account); the others get what the table says. A new route naming an
 * account fails here until the table says who may reach it.
 */
type Caller = 'outsider' | 'low' | 'reader' | 'supervisor' | 'admin';
type Answers = Record<Exclude<Caller, 'outsider'>, 200 | 204 | 403 | 404>;

interface Case {
  /** The account the route names, and how: path parameters, or a query field. */
  on: 'user' | 'org';
  query?: 'userId' | 'orgId';
  /** On a user's account `low` is its holder (alice); on an org's, a member (role member). */
  answers: Answers;
  body?: Record<string, unknown>;
  /** `userId` in the path of an org member route. */
  member?: 'owner' | 'extra';
  /** Puts back what a successful call removed, before each call. */
  prepare?: (t: Ctx) => Promise<void>;
}

interface Ctx {
  t: TestApp;
  users: Record<'alice' | 'otto' | 'owner' | 'bill' | 'mem' | 'extra' | 'sam' | 'ada', Principal>;
  orgId: string;
  planId: string;
}

const R = 200;
const staffOnly: Answers = { low: 403, reader: 404, supervisor: R, admin: R };
const holderToo: Answers = { low: R, reader: 404, supervisor: R, admin: R };
const adminOnly: Answers = { low: 403, reader: 404, supervisor: 403, admin: R };
const orgMembers: Answers = { low: R, reader: R, supervisor: R, admin: R };
const orgReaders: Answers = { low: 403, reader: R, supervisor: R, admin: R };
const orgStaff: Answers = { low: 403, reader: 403, supervisor: R, admin: R };

const subscribeAlice = async ({ t, users, planId }: Ctx) => {
  await t.http.put(`/api/users/${users.alice.id}/subscription`).set(users.ada.auth).send({ planId }).expect(200);
};
const subscribeOrg = async ({ t, users, orgId, planId }: Ctx) => {
  await t.http.put(`/api/orgs/${orgId}/subscription`).set(users.ada.auth).send({ planId }).expect(200);
};
const addExtra = async ({ t, users, orgId }: Ctx) => {
  await t.http.put(`/api/orgs/${orgId}/members/${users.extra.id}`).set(users.ada.auth).send({ role: 'member' });
};

/** The budget `walk` on alice's account or the org's (budget routes name the account in the query). */
/** A route that answers 204 where others answer 200. */
const deleted = (answers: Answers): Answers =>
  Object.fromEntries(Object.entries(answers).map(([k, v]) => [k, v === 200 ? 204 : v])) as Answers;

const budgetOn =
  (on: 'user' | 'org') =>
  async ({ t, users, orgId }: Ctx) => {
    const account = on === 'user' ? { userId: users.alice.id } : { orgId };
    const body = {
      budgetId: 'walk',
      ...account,
      scope: { kind: 'project', id: 'walk' },
      limitCredits: 100,
      period: 'month',
    };
    await t.http.post('/api/budgets').set(users.ada.auth).send(body);
  };

/** Who reaches what: the rule's table, one row per operation (two when it takes userId or orgId). */
const TABLE: Record<string, Case[]> = {
  getUserOverview: [{ on: 'user', answers: staffOnly }],
  getUserBalance: [{ on: 'user', answers: staffOnly }],
  getUserStatement: [{ on: 'user', answers: staffOnly }],
  getOrgStatement: [{ on: 'org', answers: orgReaders }],
  listAllocations: [{ on: 'user', query: 'userId', answers: holderToo }],
  listLedger: [{ on: 'user', query: 'userId', answers: holderToo }],
  getCreditLimits: [{ on: 'user', answers: staffOnly }],
  setCreditLimits: [{ on: 'user', answers: adminOnly, body: { overdraftLimit: 0 } }],
  getAlertThresholds: [{ on: 'user', answers: staffOnly }],
  setAlertThresholds: [{ on: 'user', answers: staffOnly, body: { thresholds: [10] } }],
  listTransfers: [
    { on: 'user', query: 'userId', answers: staffOnly },
    { on: 'org', query: 'orgId', answers: orgStaff },
  ],
  getAutoRecharge: [
    { on: 'user', query: 'userId', answers: holderToo },
    { on: 'org', query: 'orgId', answers: orgReaders },
  ],
  listEntitlements: [
    { on: 'user', query: 'userId', answers: holderToo },
    { on: 'org', query: 'orgId', answers: orgMembers },
  ],
  getUserUsageStats: [{ on: 'user', answers: staffOnly }],
  listUsageRecords: [{ on: 'user', query: 'userId', answers: holderToo }],
  exportUsageRecordsCsv: [{ on: 'user', query: 'userId', answers: holderToo }],
  listUserActiveSessions: [{ on: 'user', answers: staffOnly }],
  listApiKeys: [{ on: 'user', query: 'userId', answers: { ...holderToo, supervisor: 403 } }],
  putSubscription: [{ on: 'user', answers: staffOnly, body: {} }],
  getSubscription: [{ on: 'user', answers: holderToo, prepare: subscribeAlice }],
  previewSubscription: [{ on: 'user', answers: holderToo, body: {}, prepare: subscribeAlice }],
  deleteSubscription: [{ on: 'user', answers: staffOnly, prepare: subscribeAlice }],
  getRunway: [
    { on: 'user', query: 'userId', answers: holderToo },
    { on: 'org', query: 'orgId', answers: orgReaders },
  ],
  listPurchases: [
    { on: 'user', query: 'userId', answers: holderToo },
    { on: 'org', query: 'orgId', answers: orgReaders },
  ],
  listBudgets: [
    { on: 'user', query: 'userId', answers: holderToo },
    { on: 'org', query: 'orgId', answers: orgReaders },
  ],
  getOrg: [{ on: 'org', answers: orgMembers }],
  putOrgMember: [{ on: 'org', member: 'extra', answers: orgStaff, body: { role: 'member' } }],
  listOrgMembers: [{ on: 'org', answers: orgReaders }],
  getOrgMember: [{ on: 'org', member: 'owner', answers: orgReaders }],
  removeOrgMember: [{ on: 'org', member: 'extra', answers: orgStaff, prepare: addExtra }],
  getOrgBalance: [{ on: 'org', answers: orgReaders }],
  listOrgAllocations: [{ on: 'org', answers: orgReaders }],
  listOrgLedger: [{ on: 'org', answers: orgReaders }],
  getOrgUsageStats: [{ on: 'org', answers: orgReaders }],
  listOrgUsageRecords: [{ on: 'org', answers: orgReaders }],
  setOrgLimits: [{ on: 'org', answers: orgStaff, body: { overdraftLimit: 0 } }],
  getOrgLimits: [{ on: 'org', answers: orgReaders }],
  setOrgAlertThresholds: [{ on: 'org', answers: orgStaff, body: { thresholds: [10] } }],
  putOrgSubscription: [{ on: 'org', answers: orgStaff, body: {} }],
  getOrgSubscription: [{ on: 'org', answers: orgReaders, prepare: subscribeOrg }],
  previewOrgSubscription: [{ on: 'org', answers: orgReaders, body: {}, prepare: subscribeOrg }],
  deleteOrgSubscription: [{ on: 'org', answers: orgStaff, prepare: subscribeOrg }],
  setOrgModels: [{ on: 'org', answers: orgStaff, body: { models: null } }],
  listAccountPrices: [
    { on: 'user', query: 'userId', answers: staffOnly },
    { on: 'org', query: 'orgId', answers: orgStaff },
  ],
  listNotifications: [{ on: 'user', query: 'userId', answers: staffOnly }],
  getBudget: [
    { on: 'user', query: 'userId', answers: holderToo, prepare: budgetOn('user') },
    { on: 'org', query: 'orgId', answers: orgReaders, prepare: budgetOn('org') },
  ],
  updateBudget: [
    { on: 'user', query: 'userId', answers: holderToo, body: { limitCredits: 200 }, prepare: budgetOn('user') },
    { on: 'org', query: 'orgId', answers: orgReaders, body: { limitCredits: 200 }, prepare: budgetOn('org') },
  ],
  deleteBudget: [
    { on: 'user', query: 'userId', answers: deleted(holderToo), prepare: budgetOn('user') },
    { on: 'org', query: 'orgId', answers: deleted(orgReaders), prepare: budgetOn('org') },
  ],
  // On the org's member `extra` (whose own token calls nothing here): the admin erases them,
  // last: an erased person joins no org after it (putOrgMember, removeOrgMember).
  eraseUser: [
    {
      on: 'org',
      member: 'extra',
      answers: { low: 404, reader: 404, supervisor: 403, admin: 200 },
      body: { reason: 'the access walk' },
    },
  ],
};

/**
 * Operations whose `userId` is not an account they reach, with the reason: the admins' event log
 * filters what events say (events of users that never had an account included); its role refuses
 * everyone else alike, whatever the id.
 */
const NOT_AN_ACCOUNT: Record<string, string> = { listEvents: 'admin-only filter over event data' };

const namesAccount = (op: { operationId: string; parameters?: { name: string; in: string }[] }) =>
  !NOT_AN_ACCOUNT[op.operationId] &&
  (op.parameters ?? []).some((p) => (p.name === 'userId' || p.name === 'orgId') && p.in !== 'header');

describe.each(['service', 'users'] as const)('the access rule, route by route (METERING_TRUST=%s)', (trust) => {
  let ctx: Ctx;
  let doc: OpenApiDocument;

  beforeAll(async () => {
    const t = await startTestApp({ METERING_TRUST: trust });
    const f = new Fixtures(t, { prefix: 'acc' });
    const p = (role: 'user' | 'supervisor' | 'admin', name: string) => principal(role, `acc-${name}`);
    const users = {
      alice: p('user', 'alice'),
      otto: p('user', 'otto'),
      owner: p('user', 'owner'),
      bill: p('user', 'bill'),
      mem: p('user', 'mem'),
      extra: p('user', 'extra'),
      sam: p('supervisor', 'sam'),
      ada: p('admin', 'ada'),
    };
    for (const u of Object.values(users)) await t.http.get('/api/users/me').set(u.auth).expect(200);
    await f.grant(users.alice.id, 100);
    const orgId = uniqueId('acc').toLowerCase();
    await t.http
      .post('/api/orgs')
      .set(users.ada.auth)
      .send({ orgId, name: 'Access', ownerUserId: users.owner.id })
      .expect(201);
    for (const [u, role] of [
      [users.bill, 'billing'],
      [users.mem, 'member'],
      [users.extra, 'member'],
    ] as const)
      await t.http.put(`/api/orgs/${orgId}/members/${u.id}`).set(users.ada.auth).send({ role }).expect(200);
    const planId = uniqueId('accplan');
    await t.http
      .post('/api/plans')
      .set(users.ada.auth)
      .send({ id: planId, name: 'Access', credits: 10, period: 'month' })
      .expect(201);
    ctx = { t, users, orgId, planId };
    doc = (await t.http.get('/api/docs-json').expect(200)).body as OpenApiDocument;
  });
  afterAll(() => ctx?.t.close());

  it('the table covers every operation that names an account, and each declares its rule', () => {
    const naming = operationsOf(doc).filter((l) => namesAccount(l.op));
    const missing = naming.filter((l) => !TABLE[l.op.operationId]).map((l) => l.name);
    expect(missing, 'routes naming an account with no row in TABLE').toEqual([]);
    const undeclared = naming
      .filter((l) => !(l.op as unknown as Record<string, unknown>)['x-account-access'])
      .map((l) => l.name);
    expect(undeclared, 'routes naming an account without @Auth({ account })').toEqual([]);
    expect(Object.keys(TABLE).sort()).toEqual(naming.map((l) => l.op.operationId).sort());
  });

  it('answers 404 to an outsider and 403 / 200 to the others as the table says, each as documented', async () => {
    const { users, orgId } = ctx;
    const as: Record<Caller, Principal> = {
      outsider: users.otto,
      low: users.mem,
      reader: users.bill,
      supervisor: users.sam,
      admin: users.ada,
    };
    const problems: string[] = [];
    let calls = 0;
    // The erasure last: an erased person joins no org after it (putOrgMember, removeOrgMember).
    const erasureLast = (l: { op: { operationId: string } }) => Number(l.op.operationId === 'eraseUser');
    const walked = operationsOf(doc)
      .filter((l) => TABLE[l.op.operationId])
      .sort((a, b) => erasureLast(a) - erasureLast(b));
    for (const located of walked) {
      for (const row of TABLE[located.op.operationId]) {
        const account = row.on === 'user' ? users.alice.id : orgId;
        let url = located.path
          .replace('{userId}', row.on === 'user' ? account : users[row.member ?? 'owner'].id)
          .replace('{orgId}', orgId)
          .replace('{budgetId}', 'walk');
        if (row.query) url += `?${row.query}=${encodeURIComponent(account)}`;
        const body = row.body && 'planId' in row.body ? row.body : row.body && { ...row.body };
        const sent = body && Object.keys(body).length === 0 ? { planId: ctx.planId } : body;
        const expected: Record<Caller, number> = { outsider: 404, ...row.answers };
        for (const caller of Object.keys(expected) as Caller[]) {
          // On a user's account the low caller is its holder, alice; an org reader is a stranger to it.
          const who = row.on === 'user' && caller === 'low' ? users.alice : as[caller];
          await row.prepare?.(ctx);
          let req = ctx.t.http[located.method as 'get'](url).set(who.auth);
          if (sent) req = req.send(sent);
          const res = await req;
          calls++;
          const where = `${located.name} ${url} as ${caller}`;
          if (res.status !== expected[caller]) {
            problems.push(`${where}: expected ${expected[caller]}, got ${res.status} ${JSON.stringify(res.body)}`);
            continue;
          }
          if (res.status >= 400) {
            const examples = errorExamples(located, String(res.status)).map((e) => e.value as Record<string, unknown>);
            if (!examples.some((e) => sameError(e, res.body)))
              problems.push(`${where}: ${JSON.stringify(res.body)} is not among the documented ${res.status} examples`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
    expect(calls).toBeGreaterThan(150);
  });

  it('names no account that exists to whoever may not see it: an unknown account answers the same', async () => {
    const { t, users } = ctx;
    const outsider = users.otto.auth;
    const real = await t.http.get(`/api/credits/balance/${users.alice.id}`).set(outsider);
    const none = await t.http.get(`/api/credits/balance/${uniqueId('nobody')}`).set(outsider);
    expect([real.status, none.status]).toEqual([404, 404]);
    expect(real.body).toEqual(none.body);
    const org = await t.http.get(`/api/orgs/${ctx.orgId}/balance`).set(outsider);
    const noOrg = await t.http.get(`/api/orgs/${uniqueId('noorg').toLowerCase()}/balance`).set(outsider);
    expect([org.status, noOrg.status]).toEqual([404, 404]);
    expect(org.body).toEqual(noOrg.body);
  });
});
