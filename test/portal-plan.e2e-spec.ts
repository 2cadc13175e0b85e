import { mkdirSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { launchChromium } from './support/chromium.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';
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
 * The portal's Plan tab and the routes behind it: a portal token reads its own account's
 * subscription (a scheduled change with it) and previews a change, a `read` token too since a
 * preview writes nothing; another account's answers 404 and the PUT stays refused. In Chromium the
 * tab shows the plan, the period, the scheduled change and a preview of a plan chosen from those on
 * offer (`GET /api/plans/active`, which a portal token reads), at 1280 and 375 px wide.
 * Screenshots land in test-results/portal/ (plan-*.png).
 */
if (!chromiumAvailable) console.warn(`portal browser test skipped: no Chromium at ${CHROMIUM}`);
const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 15_000 });

let own: OwnDatabase;
let t: TestApp;
let browser: Browser | undefined;
let baseUrl: string;
let portalDir: string;
const adminId = uniqueId('ppadmin');
const userId = uniqueId('ppuser');
const otherId = uniqueId('ppother');
const orgId = uniqueId('pporg').toLowerCase();
const plan = (name: string) =>
  uniqueId(name)
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '');
const free = plan('pp-free');
const pro = plan('pp-pro');
const old = plan('pp-old');
const admin = bearer(token({ sub: adminId, role: 'admin' }));

async function mint(body: { userId: string; orgId?: string; scope?: 'read' }) {
  const res = await t.http.post('/api/portal/sessions').set(admin).send(body).expect(201);
  return { url: `${baseUrl}/portal?tab=plan#token=${res.body.token}`, auth: bearer(res.body.token as string) };
}

/** What a preview could write: rows of the account's money, its audit and its events. */
async function written(): Promise<number[]> {
  const {
    rows: [row],
  } = await t.db.query(
    `SELECT (SELECT count(*) FROM credit_ledger)::int AS ledger, (SELECT count(*) FROM audit_log)::int AS audit,
            (SELECT count(*) FROM events)::int AS events, (SELECT count(*) FROM subscriptions)::int AS subs`,
  );
  return [row.ledger, row.audit, row.events, row.subs];
}

describe('The portal’s plan', () => {
  beforeAll(async () => {
    // A database of its own: the counts of what a preview writes are of the whole database.
    own = await ownDatabase('portal_plan');
    portalDir = await buildPortal();
    mkdirSync(PORTAL_SHOTS, { recursive: true });
    t = await startTestApp({ PORTAL_DIR: portalDir, DATABASE_URL: own.url });
    baseUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    for (const sub of [adminId, userId, otherId]) {
      await t.http
        .get('/api/users/me')
        .set(bearer(token({ sub, role: sub === adminId ? 'admin' : 'user' })))
        .expect(200);
    }
    for (const [id, name, credits] of [
      [free, 'Portal Free', 100],
      [pro, 'Portal Pro', 5000],
    ] as const)
      await t.http.post('/api/plans').set(admin).send({ id, name, credits, period: 'month' }).expect(201);
    // A plan taken off offer: never listed, never offered by the page.
    await t.http.post('/api/plans').set(admin).send({ id: old, name: 'Portal Old', credits: 50, period: 'month' });
    await t.http.patch(`/api/plans/${old}`).set(admin).send({ isActive: false }).expect(200);
    for (const sub of [userId, otherId])
      await t.http.put(`/api/users/${sub}/subscription`).set(admin).send({ planId: free }).expect(200);
    await t.http
      .put(`/api/users/${userId}/subscription`)
      .set(admin)
      .send({ planId: pro, timing: 'period_end' })
      .expect(200);
    await t.http.post('/api/orgs').set(admin).send({ orgId, name: 'Portal Plan Org', ownerUserId: userId }).expect(201);
    await t.http.put(`/api/orgs/${orgId}/subscription`).set(admin).send({ planId: pro }).expect(200);
    if (chromiumAvailable) browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await own?.drop();
    if (portalDir) rmSync(portalDir, { recursive: true, force: true });
  });

  it('reads its own subscription, never another account’s, and may not change it', async () => {
    const { auth } = await mint({ userId });
    const mine = await t.http.get(`/api/users/${userId}/subscription`).set(auth).expect(200);
    expect(mine.body).toMatchObject({
      planId: free,
      scheduledChange: { planId: pro, effectiveAt: mine.body.currentPeriodEnd },
    });
    // Another user's, and the org's from a user session: 404, as to any outsider.
    await t.http.get(`/api/users/${otherId}/subscription`).set(auth).expect(404);
    await t.http.get(`/api/orgs/${orgId}/subscription`).set(auth).expect(404);
    await t.http.post(`/api/users/${otherId}/subscription/preview`).set(auth).send({ planId: pro }).expect(404);
    // Changing the plan is a supervisor's: the portal's own account too.
    const put = await t.http.put(`/api/users/${userId}/subscription`).set(auth).send({ planId: pro }).expect(403);
    expect(put.body.message).toBe('A portal session cannot call this route');
    await t.http.delete(`/api/users/${userId}/subscription`).set(auth).expect(403);
    expect((await t.http.get(`/api/users/${userId}/subscription`).set(admin).expect(200)).body).toEqual(mine.body);
  });

  it('previews a change with a read token, writing nothing', async () => {
    const { auth } = await mint({ userId: otherId, scope: 'read' });
    const before = await written();
    const preview = await t.http
      .post(`/api/users/${otherId}/subscription/preview`)
      .set(auth)
      .send({ planId: pro })
      .expect(200);
    // Pro's 5,000 less Free's 100, now.
    expect(preview.body).toMatchObject({ planId: pro, timing: 'now', creditsGrantedNow: 4900 });
    expect(await written()).toEqual(before);
    await t.http.post(`/api/users/${otherId}/subscription/preview`).set(auth).send({ planId: 'no-such' }).expect(404);
  });

  it('lists the plans on offer to a read token, the inactive one left out, no counts', async () => {
    const { auth } = await mint({ userId: otherId, scope: 'read' });
    const all = await t.http.get('/api/plans/active?limit=500').set(auth).expect(200);
    const mine = all.body.items.filter((p: { id: string }) => [free, pro, old].includes(p.id));
    expect(mine).toEqual([
      expect.objectContaining({ id: free, name: 'Portal Free', credits: 100, period: 'month', isActive: true }),
      expect.objectContaining({ id: pro, name: 'Portal Pro', credits: 5000, period: 'month', isActive: true }),
    ]);
    expect(all.body.items.every((p: { isActive: boolean }) => p.isActive)).toBe(true);
    expect(all.body.items[0]).not.toHaveProperty('subscriberCount');
    // Paged by id, as every list is.
    const first = await t.http.get('/api/plans/active?limit=1').set(auth).expect(200);
    expect(first.body.items).toHaveLength(1);
    const next = await t.http.get(`/api/plans/active?limit=1&cursor=${first.body.nextCursor}`).set(auth).expect(200);
    expect(next.body.items[0].id > first.body.items[0].id).toBe(true);
    // An org session and a user's own JWT read the same list; the counted list stays staff's.
    const { auth: orgAuth } = await mint({ userId, orgId });
    expect((await t.http.get('/api/plans/active?limit=500').set(orgAuth).expect(200)).body).toEqual(all.body);
    await t.http.get('/api/plans').set(auth).expect(403);
    await t.http.get('/api/plans/active?limit=0').set(auth).expect(400);
  });

  it('an org session reads the org’s subscription and previews, not the user’s own', async () => {
    const { auth } = await mint({ userId, orgId });
    expect((await t.http.get(`/api/orgs/${orgId}/subscription`).set(auth).expect(200)).body).toMatchObject({
      orgId,
      planId: pro,
      scheduledChange: null,
    });
    const preview = await t.http
      .post(`/api/orgs/${orgId}/subscription/preview`)
      .set(auth)
      .send({ planId: free, timing: 'period_end' })
      .expect(200);
    expect(preview.body).toMatchObject({ planId: free, timing: 'period_end', creditsGrantedNow: 0 });
    await t.http.get(`/api/users/${userId}/subscription`).set(auth).expect(404);
  });

  describe.skipIf(!chromiumAvailable)('in Chromium', () => {
    it('shows the plan, the scheduled change and a preview, at 1280 and 375 px', async () => {
      const session = await mint({ userId });
      const sub = (await t.http.get(`/api/users/${userId}/subscription`).set(admin).expect(200)).body;
      const at = (iso: string) =>
        new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
      // One page, loaded afresh at each width as a first visit (test/portal-page.e2e-spec.ts).
      const { page, context, errors } = await openPage(browser!, { width: 1280, scheme: 'light' });
      for (const width of [1280, 375]) {
        await page.setViewportSize({ width, height: 800 });
        await page.goto(session.url);
        const facts = page.getByRole('definition');
        await page.getByRole('heading', { name: 'Plan', level: 2 }).waitFor();
        await poll(() => facts.allTextContents()).toEqual([
          free,
          `${at(sub.currentPeriodStart)} – ${at(sub.currentPeriodEnd)}`,
          at(sub.nextGrantAt),
          `To plan ${pro} from ${at(sub.currentPeriodEnd)}`,
        ]);
        // No control that changes the plan: the page only reads.
        expect(await page.getByRole('button', { name: /change|subscribe|end/i }).count()).toBe(0);
        // The plans on offer to choose from, the account's own marked; the inactive one not offered.
        const choice = page.getByRole('combobox', { name: 'Plan', exact: true });
        // The plans on offer load after the subscription's facts.
        await poll(() => choice.locator('option').allTextContents()).toEqual(
          expect.arrayContaining(['Portal Free: 100 credits a month (your plan)', 'Portal Pro: 5,000 credits a month']),
        );
        const offered = await choice.locator('option').allTextContents();
        expect(offered.some((o) => o.startsWith('Portal Old'))).toBe(false);
        await choice.selectOption(pro);
        await page.getByRole('button', { name: 'Preview' }).click();
        const said = page.getByRole('region', { name: 'Preview' });
        await poll(() => said.getByRole('definition').allTextContents()).toEqual([
          pro,
          expect.any(String),
          '4,900',
          expect.stringMatching(/^100 in 1 lot/),
          `${at(sub.currentPeriodStart)} – ${at(sub.currentPeriodEnd)}`,
          at(sub.currentPeriodEnd),
        ]);
        await saveShot(page, join(PORTAL_SHOTS, `plan-user-${width}.png`));
        expect([width, await seriousViolations(page)]).toEqual([width, []]);
        // The page is no wider than the window, and the choice no wider than the preview's card below it.
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
        const [field, card] = await Promise.all([choice.boundingBox(), said.boundingBox()]);
        expect(field!.x + field!.width).toBeLessThanOrEqual(card!.x + card!.width + 0.5);
        // The account's own plan at the period's end: the API's answer, shown as any other.
        await choice.selectOption(free);
        await page.getByRole('button', { name: 'Preview' }).click();
        await poll(() => said.getByRole('definition').first().textContent()).toBe(free);
        expect(errors).toEqual([]);
        await page.evaluate(() => sessionStorage.clear());
        await page.goto('about:blank');
      }
      await context.close();
      // Nothing the page did changed the subscription.
      expect((await t.http.get(`/api/users/${userId}/subscription`).set(admin).expect(200)).body).toEqual(sub);
    }, 120_000);

    it('shows an org session the org’s plan', async () => {
      const session = await mint({ userId, orgId });
      const { page, context, errors } = await openPage(browser!, { width: 1280, scheme: 'dark' });
      await page.goto(session.url);
      await poll(() => page.getByRole('definition').first().textContent()).toBe(pro);
      await saveShot(page, join(PORTAL_SHOTS, 'plan-org-1280-dark.png'));
      expect(await seriousViolations(page)).toEqual([]);
      expect(errors).toEqual([]);
      await context.close();
    }, 60_000);
  });
});
