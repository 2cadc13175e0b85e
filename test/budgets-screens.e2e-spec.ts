import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, type TestApp, token, uniqueId } from './support/app.js';
import { chromiumAvailable, poll, ServedConsole, shot } from './support/console-browser.js';
import { buildPortal, openPage, PORTAL_SHOTS, saveShot, seriousViolations } from './support/portal-browser.js';

/**
 * Budgets by scope on the screens (docs/portal.md, docs/console.md): the portal's Budgets tab lists
 * the session's account's budgets (a user's, or the org's for an org session) and the console's user
 * and org pages list the account's, each figure equal to `GET /api/budgets`: a project budget with
 * usage, a day budget under it holding a session's credits, an expired tag budget, an org's session
 * budget. In Chromium at 1280 and 375 px; screenshots in test-results/portal/ (budgets-*.png) and
 * test-results/console/ (budgets-*.png).
 */
type Budget = {
  budgetId: string;
  scope: { kind: string; id: string };
  parentBudgetId: string | null;
  limitCredits: number;
  used: number;
  held: number;
  remaining: number;
  period: string;
  expired: boolean;
  expiresAt: string | null;
  resetsAt: string | null;
};

let served: ServedConsole;
let t: TestApp;
let baseUrl: string;
const adminId = uniqueId('bsadmin');
const userId = uniqueId('bsuser');
const otherId = uniqueId('bsother');
const orgId = uniqueId('bsorg').toLowerCase();
const p = uniqueId('bs').toLowerCase();
const model = `bs-${randomUUID().slice(0, 8)}`;
const admin = bearer(token({ sub: adminId, role: 'admin' }));
const as = (sub: string) => bearer(token({ sub }));
const en = new Intl.NumberFormat('en-US');
const at = (iso: string) =>
  new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));

async function listed(query: Record<string, string>): Promise<Budget[]> {
  const res = await t.http.get('/api/budgets').query(query).set(admin).expect(200);
  expect(res.body.nextCursor).toBeNull();
  return res.body.items as Budget[];
}

async function mint(body: { userId: string; orgId?: string }): Promise<string> {
  const res = await t.http.post('/api/portal/sessions').set(admin).send(body).expect(201);
  return `${baseUrl}/portal?tab=budgets#token=${res.body.token}`;
}

/** The portal's rows as the page shows them: each budget's figures and the row's words. */
function portalRows(page: Page) {
  return page.locator('tr[data-budget]').evaluateAll((rows) =>
    rows.map((row) => {
      const field = (name: string) => row.querySelector(`[data-field="${name}"]`)?.textContent ?? '';
      return {
        budgetId: (row as HTMLElement).dataset.budget,
        figures: [field('limit'), field('used'), field('held'), field('remaining')],
        text: (row as HTMLElement).innerText.replace(/\s+/g, ' '),
      };
    }),
  );
}

const KIND: Record<string, string> = { project: 'Project', tag: 'Tag', run: 'Run', session: 'Session' };
const PERIOD: Record<string, string> = { day: 'Per day', week: 'Per week', month: 'Per month', lifetime: 'In total' };

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** What the portal should show for the API's budgets. */
function portalExpected(budgets: Budget[]) {
  return budgets.map((b) => ({
    budgetId: b.budgetId,
    figures: [b.limitCredits, b.used, b.held, b.remaining].map((n) => en.format(n)),
    text: expect.stringMatching(new RegExp(`${escape(`${KIND[b.scope.kind]} ${b.scope.id}`)}.* ${PERIOD[b.period]}`)),
  }));
}

describe.skipIf(!chromiumAvailable)('Budgets on the portal and the console', () => {
  beforeAll(async () => {
    served = await ServedConsole.start({ PORTAL_DIR: await buildPortal() }, 'budgets-screens-');
    ({ t, baseUrl } = served);
    for (const sub of [adminId, userId, otherId]) {
      await t.http
        .get('/api/users/me')
        .set(sub === adminId ? admin : as(sub))
        .expect(200);
    }
    await t.http
      .post('/api/pricing')
      .set(admin)
      .send({ modelId: model, pricePer1kTokens: '10', outputPricePer1kTokens: '10' })
      .expect(201);
    for (const id of [userId, otherId])
      await t.http.post('/api/credits/allocate').set(admin).send({ userId: id, credits: 5000 }).expect(201);
    await t.http.post('/api/orgs').set(admin).send({ orgId, name: 'Budgets Org', ownerUserId: userId }).expect(201);
    await t.http.post('/api/credits/allocate').set(admin).send({ orgId, credits: 2000 }).expect(201);
    const create = (body: Record<string, unknown>) => t.http.post('/api/budgets').set(admin).send(body).expect(201);
    await create({ budgetId: `${p}-alpha`, userId, scope: { kind: 'project', id: 'alpha' }, limitCredits: 1000 });
    await create({
      budgetId: `${p}-run`,
      userId,
      scope: { kind: 'run', id: 'r-17' },
      parentBudgetId: `${p}-alpha`,
      limitCredits: 1234,
      period: 'day',
    });
    await create({
      budgetId: `${p}-eval`,
      userId,
      scope: { kind: 'tag', id: 'eval' },
      limitCredits: 5,
      expiresAt: '2099-01-01T00:00:00Z',
    });
    await create({
      budgetId: `${p}-org`,
      orgId,
      scope: { kind: 'session', id: 's-9' },
      limitCredits: 500,
      period: 'month',
    });
    await create({ budgetId: `${p}-other`, userId: otherId, scope: { kind: 'project', id: 'alpha' }, limitCredits: 9 });
    // Used: 300 on the project; held: a session's hold on the run, counted on its parent too.
    const record = (body: Record<string, unknown>) =>
      t.http
        .post('/api/usage/record')
        .set(as(userId))
        .send({ service: 'chat', operation: 'completion', ...body })
        .expect(201);
    await record({ credits: 300, scopes: { project: 'alpha' } });
    await record({ orgId, credits: 40, scopes: { session: 's-9' } });
    await t.http
      .post('/api/streaming-sessions/initialize')
      .set(as(userId))
      .send({ modelId: model, sessionId: `s-${randomUUID()}`, estimatedTokens: 1000, scopes: { run: 'r-17' } })
      .expect(201);
    await t.db.query(`UPDATE credit_budgets SET expires_at = now() - interval '1 second' WHERE budget_id = $1`, [
      `${p}-eval`,
    ]);
  }, 180_000);
  afterAll(async () => {
    await served?.close();
  });

  it('the figures behind the screens: used, held on a child and its parent, expired', async () => {
    const mine = await listed({ userId });
    const byId = Object.fromEntries(mine.map((b) => [b.budgetId, b]));
    expect(Object.keys(byId).sort()).toEqual([`${p}-alpha`, `${p}-eval`, `${p}-run`]);
    expect(byId[`${p}-alpha`]).toMatchObject({ used: 300 });
    expect(byId[`${p}-run`].held).toBeGreaterThan(0);
    expect(byId[`${p}-alpha`].held).toBe(byId[`${p}-run`].held);
    expect(byId[`${p}-eval`]).toMatchObject({ expired: true });
    expect(await listed({ orgId })).toEqual([expect.objectContaining({ used: 40, held: 0, remaining: 460 })]);
  });

  it('the portal lists the session’s account’s budgets, at 1280 and 375 px', async () => {
    const url = await mint({ userId });
    const budgets = await listed({ userId });
    // One page, loaded afresh at each width as a first visit (test/portal-page.e2e-spec.ts).
    const { page, context, errors } = await openPage(served.browser, { width: 1280, scheme: 'light' });
    for (const width of [1280, 375]) {
      await page.setViewportSize({ width, height: 800 });
      await page.goto(url);
      await page.getByRole('heading', { name: 'Budgets', level: 2 }).waitFor();
      await poll(() => portalRows(page)).toEqual(portalExpected(budgets));
      const rows = await portalRows(page);
      const text = (id: string) => rows.find((r) => r.budgetId === id)?.text ?? '';
      const run = budgets.find((b) => b.budgetId === `${p}-run`)!;
      expect(text(`${p}-run`)).toContain(`Per day Restarts ${at(run.resetsAt!)}`);
      expect(text(`${p}-alpha`)).toContain('In total');
      expect(text(`${p}-alpha`)).toContain('Active');
      expect(text(`${p}-eval`)).toContain('Expired');
      // Nothing that writes: the tab only reads.
      expect(await page.getByRole('tabpanel').getByRole('button').count()).toBe(0);
      // Cards on a phone: no sideways scrolling, each figure labelled inside its card.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
      const label = page.locator(`tr[data-budget="${p}-alpha"] .cell-label`).first();
      expect(await label.isVisible()).toBe(width === 375);
      await saveShot(page, join(PORTAL_SHOTS, `budgets-user-${width}.png`));
      expect([width, await seriousViolations(page)]).toEqual([width, []]);
      expect(errors).toEqual([]);
      await page.evaluate(() => sessionStorage.clear());
      await page.goto('about:blank');
    }
    await context.close();
  }, 120_000);

  it('an org session lists the org’s budgets, not the owner’s own', async () => {
    const url = await mint({ userId, orgId });
    const budgets = await listed({ orgId });
    const { page, context, errors } = await openPage(served.browser, { width: 375, scheme: 'dark' });
    await page.goto(url);
    await poll(() => portalRows(page)).toEqual(portalExpected(budgets));
    expect((await portalRows(page))[0].text).toContain('Per month');
    await saveShot(page, join(PORTAL_SHOTS, 'budgets-org-375-dark.png'));
    expect(await seriousViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  it('the console shows the budgets on the user page and the org page', async () => {
    const { page, errors } = await served.open();
    await served.signIn(page, token({ sub: adminId, role: 'admin' }));
    const consoleRow = (b: Budget) => [
      b.parentBudgetId ? `${b.budgetId} under ${b.parentBudgetId}` : b.budgetId,
      `${b.scope.kind} ${b.scope.id}`,
      ...[b.limitCredits, b.used, b.held, b.remaining].map((n) => en.format(n)),
      b.period,
      b.resetsAt ? `${b.resetsAt.slice(0, 10)} ${b.resetsAt.slice(11, 19)} UTC` : 'never',
      b.expired ? 'expired' : 'never',
      'Edit', // each row's Edit (limit and expiry): test/console-widths.e2e-spec.ts
    ];
    for (const [path, query, name] of [
      [`/users/${userId}`, { userId }, 'user'],
      [`/orgs/${orgId}`, { orgId }, 'org'],
    ] as const) {
      const budgets = await listed(query);
      await page.goto(`${baseUrl}/admin${path}`);
      await page.getByRole('tab', { name: 'Budgets' }).click();
      const table = page.getByRole('table', { name: 'Budgets' });
      const body = table.locator('tbody tr');
      await poll(() => body.count()).toBe(budgets.length);
      const shown = await body.evaluateAll((rows) =>
        rows.map((r) => Array.from(r.querySelectorAll('td'), (td) => td.textContent ?? '')),
      );
      expect(shown).toEqual(budgets.map(consoleRow));
      await shot(page, `budgets-${name}`);
    }
    expect(errors).toEqual([]);
  }, 120_000);
});
