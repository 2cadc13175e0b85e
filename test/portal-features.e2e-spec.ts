import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
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
 * The portal's Features tab in Chromium: a user's plan with a boolean, a metered and a config feature,
 * the use this period and the reset in the reader's locale, as `GET /api/entitlements` answers the
 * same portal token; an org session shows the org's grants. Screenshots land in test-results/portal/.
 */
if (!chromiumAvailable) console.warn(`portal browser test skipped: no Chromium at ${CHROMIUM}`);
const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 15_000 });

let own: OwnDatabase;
let t: TestApp;
let browser: Browser;
let baseUrl: string;
let portalDir: string;
const adminId = uniqueId('pfadmin');
const userId = uniqueId('pfuser');
const orgId = uniqueId('pforg').toLowerCase();
const planId = uniqueId('pfplan')
  .toLowerCase()
  .replace(/[^a-z0-9-]/g, '');
const admin = bearer(token({ sub: adminId, role: 'admin' }));
const as = (sub: string) => bearer(token({ sub }));

async function mint(body: { userId: string; orgId?: string }) {
  const res = await t.http.post('/api/portal/sessions').set(admin).send(body).expect(201);
  return { url: `${baseUrl}/portal#token=${res.body.token}`, token: res.body.token as string };
}

describe.skipIf(!chromiumAvailable)('The portal’s Features tab', () => {
  beforeAll(async () => {
    // A database of its own: the tab lists every feature, and other spec files create features.
    own = await ownDatabase('portal_features');
    portalDir = await buildPortal();
    mkdirSync(PORTAL_SHOTS, { recursive: true });
    t = await startTestApp({ PORTAL_DIR: portalDir, DATABASE_URL: own.url });
    baseUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    await t.http.get('/api/users/me').set(admin).expect(200);
    await t.http.get('/api/users/me').set(as(userId)).expect(200);
    const feature = (featureKey: string, name: string, type: string) =>
      t.http.post('/api/features').set(admin).send({ featureKey, name, type }).expect(201);
    await feature('web_search', 'Web search', 'boolean');
    await feature('image_generation', 'Image generation', 'metered');
    await feature('context_window', 'Context window', 'config');
    await feature('voice', 'Voice', 'boolean');
    await t.http
      .post('/api/plans')
      .set(admin)
      .send({
        id: planId,
        name: 'Pro',
        credits: 100,
        period: 'month',
        features: {
          web_search: true,
          image_generation: { limit: 100, period: 'day' },
          context_window: { value: { tokens: 200000 } },
        },
      })
      .expect(201);
    await t.http.put(`/api/users/${userId}/subscription`).set(admin).send({ planId }).expect(200);
    await t.http.post('/api/orgs').set(admin).send({ orgId, name: 'Portal Features Org', ownerUserId: userId });
    await t.http.put('/api/entitlements/voice').set(admin).send({ orgId, grant: true }).expect(200);
    await t.http
      .post('/api/entitlements/check')
      .set(as(userId))
      .send({ userId, featureKey: 'image_generation', consume: 12 })
      .expect(200);
    browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await own?.drop();
    if (portalDir) rmSync(portalDir, { recursive: true, force: true });
  });

  it('shows the plan’s features, the use and the reset, as the API answers the same token', async () => {
    const session = await mint({ userId });
    const api = (await t.http.get('/api/entitlements').query({ userId }).set(bearer(session.token)).expect(200)).body;
    const images = api.items.find((e: { featureKey: string }) => e.featureKey === 'image_generation');
    expect(images).toMatchObject({ used: 12, remaining: 88 });
    // One page, loaded afresh at each width and scheme as a first visit (no token held): a context of
    // its own for each load started a renderer and compiled the bundle and axe-core again.
    const { page, context, errors } = await openPage(browser, { width: 375, scheme: 'light', locale: 'de-DE' });
    for (const width of [375, 1280]) {
      for (const scheme of ['light', 'dark'] as const) {
        await page.setViewportSize({ width, height: 800 });
        await page.emulateMedia({ colorScheme: scheme });
        await page.goto(`${session.url.split('#')[0]}?tab=features#${session.url.split('#')[1]}`);
        const table = page.getByRole('region', { name: 'Features' });
        await poll(() => table.locator('tbody tr').count()).toBe(4);
        const row = (name: string) => table.getByRole('row', { name: new RegExp(`^${name}`) });
        expect(await row('Web search').locator('td').allTextContents()).toEqual(['Included', '', '', '']);
        expect(await row('Voice').locator('td').first().textContent()).toBe('Not included');
        expect(await row('Context window').locator('td').first().textContent()).toBe('{"tokens":200000}');
        const reset = new Intl.DateTimeFormat('de-DE', { dateStyle: 'medium', timeStyle: 'short' }).format(
          new Date(images.resetsAt),
        );
        expect(await row('Image generation').locator('td').allTextContents()).toEqual(['100 a day', '12', '88', reset]);
        const name = `features-user-${width}-${scheme}`;
        await saveShot(page, join(PORTAL_SHOTS, `${name}.png`));
        // The same picture under /tmp to look at: a copy, not a second capture.
        copyFileSync(join(PORTAL_SHOTS, `${name}.png`), `/tmp/features-ui-portal-${width}-${scheme}.png`);
        expect([name, await seriousViolations(page)]).toEqual([name, []]);
        expect(errors).toEqual([]);
        await page.evaluate(() => sessionStorage.clear());
        await page.goto('about:blank');
      }
    }
    await context.close();
  }, 180_000);

  it('shows an org session the org’s grants', async () => {
    const session = await mint({ userId, orgId });
    const { page, context, errors } = await openPage(browser, { width: 1280, scheme: 'light' });
    await page.goto(session.url);
    await page.getByRole('tab', { name: 'Features' }).click();
    const table = page.getByRole('region', { name: 'Features' });
    // The org has no plan: only its own override of Voice is included.
    await poll(() =>
      table
        .getByRole('row', { name: /^Voice/ })
        .locator('td')
        .first()
        .textContent(),
    ).toBe('Included');
    expect(
      await table
        .getByRole('row', { name: /^Web search/ })
        .locator('td')
        .first()
        .textContent(),
    ).toBe('Not included');
    // A config feature with no grant reads as words, not as a JSON value.
    const contextCell = table
      .getByRole('row', { name: /^Context window/ })
      .locator('td')
      .first();
    expect(await contextCell.textContent()).toBe('Not included');
    expect(await contextCell.getAttribute('class')).toBeNull();
    await saveShot(page, '/tmp/features-ui-portal-org.png');
    expect(await seriousViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);
});
