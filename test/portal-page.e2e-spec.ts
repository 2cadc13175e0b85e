import { mkdirSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { firstUsageDay, runwayDays } from '../console/src/lib/runway.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { launchChromium } from './support/chromium.js';
import {
  buildPortal,
  CHROMIUM,
  chromiumAvailable,
  openPage,
  PORTAL_SHOTS,
  saveShot,
  seriousViolations,
} from './support/portal-browser.js';

/**
 * The portal page in Chromium for a user, an org member and an org reader: every tab at 375 and
 * 1280 px, light and dark, axe-core clean, its figures the API's; the keyboard alone; an ended
 * session shows one sentence. Screenshots land in test-results/portal/.
 */
if (!chromiumAvailable) console.warn(`portal browser test skipped: no Chromium at ${CHROMIUM}`);
const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 15_000 });

let t: TestApp;
let browser: Browser;
let baseUrl: string;
let portalDir: string;
const adminId = uniqueId('ppadmin');
const userId = uniqueId('ppuser');
const memberId = uniqueId('ppmember');
const readerId = uniqueId('ppreader');
const orgId = uniqueId('pporg').toLowerCase();
const admin = bearer(token({ sub: adminId, role: 'admin' }));
const as = (sub: string) => bearer(token({ sub }));
const ENDED = 'Your session has ended or expired: open this page again from the app that sent you here.';

async function mint(body: { userId: string; orgId?: string }) {
  const res = await t.http.post('/api/portal/sessions').set(admin).send(body).expect(201);
  expect(res.body.url).toMatch(/\/portal#token=acp_/);
  return {
    id: res.body.id as string,
    url: `${baseUrl}/portal#token=${res.body.token}`,
    token: res.body.token as string,
  };
}

const digits = (text: string | null) => Number((text ?? '').replace(/[^\d]/g, ''));

async function tabs(page: Page): Promise<string[]> {
  return page.getByRole('tab').allTextContents();
}

describe.skipIf(!chromiumAvailable)('The portal in a browser', () => {
  beforeAll(async () => {
    portalDir = await buildPortal();
    mkdirSync(PORTAL_SHOTS, { recursive: true });
    t = await startTestApp({ PORTAL_DIR: portalDir });
    baseUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    for (const id of [adminId, userId, memberId, readerId]) await t.http.get('/api/users/me').set(as(id)).expect(200);
    await t.http.get('/api/users/me').set(admin).expect(200);
    const grant = (body: object) => t.http.post('/api/credits/allocate').set(admin).send(body).expect(201);
    await grant({ userId, credits: 12_500, expiryDays: 400, notes: 'Annual plan' });
    await grant({ userId, credits: 300, expiryDays: 10, notes: 'Welcome credits' });
    for (const [i, model] of ['portal-model-a', 'portal-model-b', 'portal-model-a'].entries()) {
      await t.http
        .post('/api/usage/record')
        .set(as(userId))
        .send({
          service: i === 1 ? 'embeddings' : 'chat',
          operation: 'reply',
          modelId: model,
          inputTokens: 1500 + i,
          outputTokens: 500,
          cacheReadTokens: 200,
        })
        .expect(201);
    }
    const purchase = await t.http
      .post('/api/purchases')
      .set(admin)
      .send({ userId, credits: 1000, amount: '9.99', currency: 'eur', provider: 'paddle' })
      .expect(201);
    await t.http.post(`/api/purchases/${purchase.body.id}/paid`).set(admin).send({}).expect(200);
    await t.http.post('/api/orgs').set(admin).send({ orgId, name: 'Portal Org', ownerUserId: readerId }).expect(201);
    await t.http
      .put(`/api/orgs/${orgId}/members/${memberId}`)
      .set(admin)
      .send({ role: 'member', spendLimit: { credits: 500, period: 'month' } })
      .expect(200);
    await grant({ orgId, credits: 5000, expiryDays: 30 });
    // A plan for both, or the Plan tab's read answers 404, which the browser logs. One credit a month.
    const planId = `plan-${orgId}`;
    await t.http.post('/api/plans').set(admin).send({ id: planId, name: 'Portal plan', credits: 1, period: 'month' });
    for (const path of [`users/${userId}`, `orgs/${orgId}`])
      await t.http.put(`/api/${path}/subscription`).set(admin).send({ planId }).expect(200);
    // On sale, yet this app names no PORTAL_BUY_URL: the portal offers no purchase.
    await t.http
      .post('/api/packages')
      .set(admin)
      .send({
        packageId: uniqueId('pp-pkg'),
        name: 'Portal pack',
        credits: 100,
        price: { amount: '1.00', currency: 'eur' },
      })
      .expect(201);
    await t.http
      .post('/api/usage/record')
      .set(as(memberId))
      .send({ orgId, service: 'chat', operation: 'reply', modelId: 'portal-model-a', credits: 42 })
      .expect(201);
    browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    if (portalDir) rmSync(portalDir, { recursive: true, force: true });
  });

  const personas = [
    {
      name: 'user',
      who: () => ({ userId }),
      tabs: ['Balance', 'Usage', 'Statements', 'Purchases', 'Plan', 'Budgets', 'Features', 'API keys'],
    },
    {
      name: 'member',
      who: () => ({ userId: memberId, orgId }),
      tabs: ['Balance', 'Features', 'API keys', 'Organisation'],
    },
    {
      name: 'reader',
      who: () => ({ userId: readerId, orgId }),
      tabs: ['Balance', 'Usage', 'Statements', 'Purchases', 'Plan', 'Budgets', 'Features', 'API keys', 'Organisation'],
    },
  ];
  for (const persona of personas) {
    it(`every tab for the ${persona.name}, at 375 and 1280 px, light and dark, axe-clean`, async () => {
      const session = await mint(persona.who());
      // One page, loaded afresh at each width and scheme as a first visit (no token held): a context of
      // its own for each load started a renderer and compiled the bundle and axe-core again, a second
      // of a core or more each.
      const { page, context, errors } = await openPage(browser, { width: 375, scheme: 'light' });
      for (const width of [375, 1280]) {
        for (const scheme of ['light', 'dark'] as const) {
          await page.setViewportSize({ width, height: 800 });
          await page.emulateMedia({ colorScheme: scheme });
          await page.goto(session.url);
          await page.getByRole('tab', { name: 'Balance' }).waitFor();
          // The token left the address bar at once.
          expect(page.url()).not.toContain('token=');
          expect(await tabs(page)).toEqual(persona.tabs);
          for (const tab of persona.tabs) {
            await page.getByRole('tab', { name: tab }).click();
            await poll(() => page.getByRole('tabpanel').getByRole('heading').first().isVisible()).toBe(true);
            await poll(() => page.getByText('Loading…').count()).toBe(0);
            const name = `${persona.name}-${tab.toLowerCase().replace(/ /g, '-')}-${width}-${scheme}`;
            await saveShot(page, join(PORTAL_SHOTS, `${name}.png`));
            expect([name, await seriousViolations(page)]).toEqual([name, []]);
          }
          expect(errors).toEqual([]);
          await page.evaluate(() => sessionStorage.clear());
          await page.goto('about:blank');
        }
      }
      await context.close();
    }, 240_000);
  }

  it('shows the API’s figures for the same account: balance, lots soonest first, usage, purchases', async () => {
    const session = await mint({ userId });
    const { page, context } = await openPage(browser, { width: 1280, scheme: 'light', locale: 'de-DE' });
    await page.goto(session.url);
    const balance = (await t.http.get('/api/credits/balance').set(as(userId)).expect(200)).body;
    await poll(() => page.getByTestId('available').textContent()).toBe(
      new Intl.NumberFormat('de-DE').format(balance.totalCredits),
    );
    expect(digits(await page.getByTestId('held').textContent())).toBe(balance.heldCredits);
    // The run-out day beside the balance: the runway's UTC day, or none within a year; over the last
    // 14 days, or the account's own days since its first usage (console/src/lib/runway.ts).
    // The page's chart reads the last 30 UTC days.
    const chart = {
      startDate: new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10),
      endDate: new Date().toISOString().slice(0, 10),
    };
    const { byDay } = (
      await t.http
        .get(`/api/usage/stats?startDate=${chart.startDate}&endDate=${chart.endDate}`)
        .set(as(userId))
        .expect(200)
    ).body;
    const days = runwayDays(firstUsageDay(byDay));
    const runway = (await t.http.get(`/api/credits/runway?days=${days}`).set(as(userId)).expect(200)).body;
    const utcDay = new Intl.DateTimeFormat('de-DE', { dateStyle: 'medium', timeZone: 'UTC' });
    await poll(() => page.getByTestId('runs-out').textContent()).toBe(
      runway.runsOutAt === null
        ? 'Not within a year'
        : `${utcDay.format(new Date(`${runway.runsOutAt.slice(0, 10)}T00:00:00Z`))}${runway.cause === 'expiry' ? ' (credits expire)' : ''}`,
    );
    const soonest = page.locator('tr.soonest');
    expect(await page.locator('tr.soonest').count()).toBe(1);
    expect(await soonest.getByText('Expires soonest').isVisible()).toBe(true);
    expect(digits(await soonest.locator('td').first().textContent())).toBe(balance.activeAllocations[0].credits);
    // The chart comes from its own request (the usage figures), after the balance has shown.
    await poll(() => page.getByRole('img', { name: /Daily usage over the last 30 UTC days/ }).isVisible()).toBe(true);
    const stats = (await t.http.get('/api/usage/stats').set(as(userId)).expect(200)).body;
    await poll(() => page.getByText(/Daily usage over the last 30 UTC days/).textContent()).toContain(
      `${new Intl.NumberFormat('de-DE').format(stats.totalCredits)} credits in all`,
    );

    await page.getByRole('tab', { name: 'Usage' }).click();
    const records = (await t.http.get('/api/usage/records').set(as(userId)).expect(200)).body.items;
    await poll(() => page.getByRole('region', { name: 'Usage records' }).locator('tbody tr').count()).toBe(
      records.length,
    );
    expect(await page.getByText('in 1.502 · out 500 · cache read 200').isVisible()).toBe(true);
    await page.getByLabel('Model').fill('portal-model-b');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await poll(() => page.getByRole('region', { name: 'Usage records' }).locator('tbody tr').count()).toBe(1);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const csv = await (await download.createReadStream()).toArray();
    const api = await t.http.get('/api/usage/records/export?modelId=portal-model-b').set(as(userId)).expect(200);
    expect(Buffer.concat(csv).toString()).toBe(api.text);

    await page.getByRole('tab', { name: 'Purchases' }).click();
    await poll(() => page.getByRole('region', { name: 'Purchases' }).textContent()).toContain('9,99');
    expect(await page.getByRole('region', { name: 'Purchases' }).textContent()).toContain('Paid');
    expect(await page.getByRole('link', { name: /Buy credits/ }).count()).toBe(0);
    expect((await t.http.get('/api/portal/session').set(bearer(session.token)).expect(200)).body.buyUrl).toBeNull();
    await context.close();
  });

  it('Statements: the month’s statement of the session’s account, its CSV and PDF the API’s', async () => {
    const session = await mint({ userId });
    const portal = bearer(session.token);
    const month = new Date().toISOString().slice(0, 7);
    const api = (await t.http.get(`/api/credits/statement?month=${month}`).set(portal).expect(200)).body;
    expect(api.userId).toBe(userId);
    // Another account's statement, named from this token: 404 as to any outsider, on the staff route
    // too; the staff route naming the session's own account: 403.
    await t.http.get(`/api/orgs/${orgId}/statement?month=${month}`).set(portal).expect(404);
    await t.http.get(`/api/credits/statement/${readerId}?month=${month}`).set(portal).expect(404);
    await t.http.get(`/api/credits/statement/${userId}?month=${month}`).set(portal).expect(403);

    const { page, context, errors } = await openPage(browser, { width: 1280, scheme: 'light', locale: 'de-DE' });
    await page.goto(`${session.url.split('#')[0]}?tab=statements#${session.url.split('#')[1]}`);
    await poll(() => page.getByTestId('closing').textContent()).toBe(
      new Intl.NumberFormat('de-DE').format(api.closingCredits),
    );
    expect(digits(await page.getByTestId('opening').textContent())).toBe(api.openingCredits);
    const lines = page.getByRole('region', { name: 'Statement lines' }).locator('tbody tr');
    expect(await lines.count()).toBe(api.lines.length);
    const region = await page.getByRole('region', { name: 'Statement lines' }).textContent();
    for (const what of ['Grant', 'Purchase', 'Usage', '9,99']) expect(region).toContain(what);
    expect(await page.getByRole('region', { name: 'Usage by service' }).textContent()).toContain('embeddings');
    await saveShot(page, join(PORTAL_SHOTS, 'user-statements-1280-de.png'));

    const downloaded = async (button: string) => {
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: button }).click(),
      ]);
      return Buffer.concat(await (await download.createReadStream()).toArray());
    };
    const csv = await t.http.get(`/api/credits/statement?month=${month}&format=csv`).set(portal).expect(200);
    expect((await downloaded('Download CSV')).toString()).toBe(csv.text);
    const pdf = await downloaded('Download PDF');
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');

    // An earlier month: nothing moved, the figures say so.
    const earlier = await page.getByLabel('Month (UTC)').locator('option').nth(1).getAttribute('value');
    await page.getByLabel('Month (UTC)').selectOption(earlier!);
    await poll(() => page.getByText('Nothing moved this month.').isVisible()).toBe(true);
    expect(digits(await page.getByTestId('closing').textContent())).toBe(0);
    expect(errors).toEqual([]);
    await context.close();

    // An org reader's session reads the org's statement.
    const reader = await mint({ userId: readerId, orgId });
    const orgApi = (await t.http.get(`/api/orgs/${orgId}/statement`).set(bearer(reader.token)).expect(200)).body;
    expect(orgApi.orgId).toBe(orgId);
    await t.http.get('/api/credits/statement').set(bearer(reader.token)).expect(404);
    const org = await openPage(browser, { width: 375, scheme: 'dark' });
    await org.page.goto(reader.url);
    await org.page.getByRole('tab', { name: 'Statements' }).click();
    await poll(() => org.page.getByTestId('closing').textContent()).toBe(
      new Intl.NumberFormat('en-US').format(orgApi.closingCredits),
    );
    await saveShot(org.page, join(PORTAL_SHOTS, 'reader-statements-375-dark.png'));
    expect(await seriousViolations(org.page)).toEqual([]);
    await org.context.close();
  }, 120_000);

  it('works with the keyboard alone: tabs, filters, a key created with a budget and revoked', async () => {
    const session = await mint({ userId });
    const { page, context } = await openPage(browser, { width: 1280, scheme: 'dark' });
    await page.goto(session.url);
    await page.getByRole('tab', { name: 'Balance' }).waitFor();
    const focused = () => page.evaluate(() => document.activeElement?.textContent?.trim() ?? '');
    await page.keyboard.press('Tab');
    await poll(focused).toBe('Balance');
    await page.keyboard.press('ArrowRight');
    await poll(focused).toBe('Usage');
    await poll(() => page.getByRole('heading', { name: 'Usage' }).isVisible()).toBe(true);
    await page.keyboard.press('End');
    await poll(focused).toBe('API keys');
    await page.keyboard.press('Tab'); // the panel
    await page.keyboard.press('Tab'); // Name
    await page.keyboard.type('keyboard key');
    for (let i = 0; i < 3; i++) await page.keyboard.press('Tab'); // scopes: read credits, read usage, record usage
    await page.keyboard.press('Space'); // + usage:write
    for (let i = 0; i < 4; i++) await page.keyboard.press('Tab'); // budget
    await page.keyboard.type('250');
    await page.keyboard.press('Enter');
    const secret = page.getByTestId('new-key');
    await poll(() => secret.textContent()).toMatch(/^acs_live_/);
    const keys = (await t.http.get('/api/api-keys').set(as(userId)).expect(200)).body.items;
    const made = keys.find((k: { name: string }) => k.name === 'keyboard key');
    expect(made).toMatchObject({
      permissions: ['credits:read', 'usage:read', 'usage:write'],
      creditLimit: 250,
      limitPeriod: 'month',
    });
    await page.getByRole('button', { name: 'Revoke keyboard key' }).focus();
    await page.keyboard.press('Enter');
    await poll(() => page.getByRole('dialog').isVisible()).toBe(true);
    await page.keyboard.press('Tab');
    await poll(focused).toBe('Revoke key');
    await page.keyboard.press('Enter');
    await poll(async () => (await t.http.get(`/api/api-keys/${made.id}`).set(as(userId))).body.isActive).toBe(false);
    await saveShot(page, join(PORTAL_SHOTS, 'keyboard-keys-1280-dark.png'));
    await context.close();
  });

  it('an ended or expired session shows one sentence and no data', async () => {
    const session = await mint({ userId });
    const { page, context } = await openPage(browser, { width: 375, scheme: 'light' });
    await page.goto(session.url);
    await page.getByTestId('available').waitFor();
    await t.http.delete(`/api/portal/sessions/${session.id}`).set(admin).expect(204);
    // The next read ends the page: the tab's own, or one the page still had in flight (on a busy
    // machine that one can answer first and take the tab away before the click lands).
    await page
      .getByRole('tab', { name: 'Usage' })
      .click({ timeout: 5_000 })
      .catch(async (error: unknown) => {
        if ((await page.locator('body').innerText()) !== ENDED) throw error;
      });
    await poll(() => page.locator('body').innerText()).toBe(ENDED);
    await saveShot(page, join(PORTAL_SHOTS, 'ended-375-light.png'));
    expect(await seriousViolations(page)).toEqual([]);

    const expired = await mint({ userId });
    await t.db.query(`UPDATE portal_sessions SET expires_at = now() - interval '1 second' WHERE id = $1`, [expired.id]);
    await page.goto(expired.url);
    await poll(() => page.locator('body').innerText()).toBe(ENDED);
    await page.goto(`${baseUrl}/portal`);
    await poll(() => page.locator('body').innerText()).toBe(ENDED);
    await context.close();
  });
});

describe.skipIf(!chromiumAvailable)('The portal’s Buy credits links (PORTAL_BUY_URL set)', () => {
  const BUY = 'https://app.example/checkout?src=portal';
  const buyer = uniqueId('ppbuyer');
  const buyOrg = uniqueId('ppbuyorg').toLowerCase();
  const packageId = uniqueId('pp-buy').toLowerCase();
  let app: TestApp;
  let dir: string;
  let url: string;
  let chrome: Browser;

  beforeAll(async () => {
    dir = await buildPortal();
    app = await startTestApp({ PORTAL_DIR: dir, PORTAL_BUY_URL: BUY });
    url = `http://127.0.0.1:${(app.app.getHttpServer().address() as AddressInfo).port}`;
    await app.http.get('/api/users/me').set(as(buyer)).expect(200);
    await app.http.get('/api/users/me').set(admin).expect(200);
    await app.http
      .post('/api/packages')
      .set(admin)
      .send({
        packageId,
        name: 'Team pack',
        credits: 5000,
        bonusCredits: 500,
        price: { amount: '49.00', currency: 'eur' },
      })
      .expect(201);
    await app.http
      .post('/api/orgs')
      .set(admin)
      .send({ orgId: buyOrg, name: 'Buy Org', ownerUserId: buyer })
      .expect(201);
    chrome = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await chrome?.close();
    await app?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const who of [{ name: 'user' }, { name: 'org', org: true }]) {
    it(`links each package to the app’s checkout for a ${who.name} session, at 375 and 1280 px, axe-clean`, async () => {
      const body = who.org ? { userId: buyer, orgId: buyOrg } : { userId: buyer };
      const minted = (await app.http.post('/api/portal/sessions').set(admin).send(body).expect(201)).body;
      expect((await app.http.get('/api/portal/session').set(bearer(minted.token)).expect(200)).body.buyUrl).toBe(BUY);
      // One page, loaded afresh at each width as a first visit (see the tabs above).
      const { page, context, errors } = await openPage(chrome, { width: 375, scheme: 'light', locale: 'de-DE' });
      for (const width of [375, 1280]) {
        await page.setViewportSize({ width, height: 800 });
        await page.goto(`${url}/portal#token=${minted.token}`);
        await page.getByRole('tab', { name: 'Purchases' }).click();
        const link = page.getByRole('link', { name: 'Buy credits: Team pack, 49,00 €' });
        await poll(() => link.count()).toBe(1);
        const href = new URL((await link.getAttribute('href'))!);
        expect(`${href.origin}${href.pathname}`).toBe('https://app.example/checkout');
        expect(Object.fromEntries(href.searchParams)).toEqual(
          // The account to credit, the session's own: the org's for an org session, else the user's.
          who.org ? { src: 'portal', orgId: buyOrg, packageId } : { src: 'portal', userId: buyer, packageId },
        );
        const card = page.locator('li.package', { has: link });
        expect(await card.textContent()).toContain('5.000 credits + 500 bonus');
        // Reachable by keyboard: focus lands on it and Enter would follow it.
        await link.focus();
        expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('A');
        await poll(() => page.getByText('Loading…').count()).toBe(0);
        await saveShot(page, join(PORTAL_SHOTS, `buy-${who.name}-purchases-${width}.png`));
        expect(await seriousViolations(page)).toEqual([]);
        expect(errors).toEqual([]);
        await page.evaluate(() => sessionStorage.clear());
        await page.goto('about:blank');
      }
      await context.close();
    }, 120_000);
  }
});
