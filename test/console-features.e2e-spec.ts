import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, type TestApp, token, uniqueId } from './support/app.js';
import { chromiumAvailable, keysSent, poll, ServedConsole, shot } from './support/console-browser.js';

/**
 * The console's Features page in a real browser (as test/console.e2e-spec.ts): a feature created and
 * renamed, granted on a plan, an override set on a user's page and on an org's page, and the use this
 * period read from the account's list. Screenshots land in test-results/console/ (features-*.png).
 */

let served: ServedConsole;
let t: TestApp;
let baseUrl: string;
const adminId = uniqueId('fadmin');
const userId = uniqueId('fuser');
const orgId = uniqueId('forg').toLowerCase();
const planId = uniqueId('fplan')
  .toLowerCase()
  .replace(/[^a-z0-9-]/g, '');
const admin = () => token({ sub: adminId, role: 'admin' });

/** The first UTC midnight after now, as the console shows it. */
function nextUtcMidnight(now = new Date()): string {
  const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
  return `${next.toISOString().slice(0, 10)} 00:00:00 UTC`;
}

describe.skipIf(!chromiumAvailable)('Console: features in a browser', () => {
  beforeAll(async () => {
    // A database of its own: the Features page lists every feature and every plan, and other spec
    // files create both on the shared database meanwhile.
    served = await ServedConsole.onOwnDatabase('console_features', {}, 'console-features-');
    ({ t, baseUrl } = served);
    const as = bearer(admin());
    await t.http.get('/api/users/me').set(as).expect(200);
    await t.http
      .post('/api/credits/allocate')
      .set(as)
      .send({ userId, credits: 1000, email: `${userId}@example.com`, username: userId })
      .expect(201);
    await t.http.post('/api/orgs').set(as).send({ orgId, name: 'Features Org', ownerUserId: userId }).expect(201);
    await t.http
      .post('/api/plans')
      .set(as)
      .send({ id: planId, name: 'Pro', credits: 100, period: 'month' })
      .expect(201);
    await t.http
      .post('/api/plans')
      .set(as)
      .send({ id: `${planId}-f`, name: 'Free', credits: 10, period: 'month' });
    await t.http.put(`/api/users/${userId}/subscription`).set(as).send({ planId }).expect(200);
    await t.http.post('/api/features').set(as).send({ featureKey: 'web_search', name: 'Web search', type: 'boolean' });
    await t.http
      .post('/api/features')
      .set(as)
      .send({ featureKey: 'context_window', name: 'Context window', type: 'config' })
      .expect(201);
  }, 120_000);
  afterAll(async () => {
    await served?.close();
  });

  it('creates a feature, grants it on a plan, sets overrides and shows the use this period', async () => {
    const { page, errors, sent } = await served.open();
    await served.signIn(page, admin());
    const as = bearer(admin());

    await page.getByRole('navigation').getByRole('link', { name: 'Features' }).click();
    await page.getByRole('heading', { name: 'Features', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'New feature' }).click();
    const create = page.getByRole('dialog', { name: 'New feature' });
    await create.getByLabel('Feature key').fill('image_generation');
    await create.getByLabel('Name').fill('Images');
    await create.getByLabel('Type', { exact: true }).click();
    await page.getByRole('option', { name: 'metered' }).click();
    await shot(page, 'features-new');
    // A double click sends one key: the feature is created once.
    await create.getByRole('button', { name: 'Create feature' }).dblclick();
    const features = page.getByRole('table', { name: 'Features' });
    await poll(() => features.getByRole('row').filter({ hasText: 'image_generation' }).textContent()).toContain(
      'metered',
    );
    const creates = keysSent(sent, 'POST', '/api/features');
    expect(creates.length).toBeGreaterThanOrEqual(1);
    expect(new Set(creates).size).toBe(1);

    await page.getByRole('button', { name: 'Rename image_generation' }).click();
    const rename = page.getByRole('dialog', { name: 'Rename image_generation' });
    await rename.getByLabel('Name').fill('Image generation');
    await rename.getByRole('button', { name: 'Save name' }).click();
    await poll(() => features.getByRole('row').filter({ hasText: 'image_generation' }).textContent()).toContain(
      'Image generation',
    );

    // The plan's grant, from the grid: 5 images a day.
    await page.getByRole('button', { name: `Grant of image_generation on plan ${planId}: no grant` }).click();
    const grant = page.getByRole('dialog', { name: 'Image generation on plan Pro' });
    await grant.getByLabel('Limit (uses per period)').fill('5');
    await grant.getByLabel('Period', { exact: true }).click();
    await page.getByRole('option', { name: 'day', exact: true }).click();
    await shot(page, 'features-plan-grant');
    await grant.getByRole('button', { name: 'Save grant' }).click();
    await page.getByRole('button', { name: `Grant of image_generation on plan ${planId}: 5 a day` }).waitFor();
    await page.getByRole('button', { name: `Grant of web_search on plan ${planId}: no grant` }).click();
    await page
      .getByRole('dialog', { name: 'Web search on plan Pro' })
      .getByRole('button', { name: 'Save grant' })
      .click();
    await page.getByRole('button', { name: `Grant of web_search on plan ${planId}: granted` }).waitFor();
    const plans = (await t.http.get('/api/plans').set(as).expect(200)).body.items;
    expect(plans.find((p: { id: string }) => p.id === planId).features).toEqual({
      image_generation: { limit: 5, period: 'day' },
      web_search: true,
    });
    await shot(page, 'features-page');

    // Two images used: the user's page shows 2 used, 3 left, reset at the next UTC midnight.
    const check = await t.http
      .post('/api/entitlements/check')
      .set(bearer(token({ sub: userId })))
      .send({ userId, featureKey: 'image_generation', consume: 2 })
      .expect(200);
    expect(check.body).toMatchObject({ allowed: true, used: 2, remaining: 3 });
    await page.goto(`${baseUrl}/admin/users/${userId}`);
    await poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe(userId);
    await page.getByRole('tab', { name: 'Features' }).click();
    const list = page.getByRole('table', { name: 'Features' });
    const images = list.getByRole('row').filter({ hasText: 'image_generation' });
    await poll(() => images.textContent()).toContain('5 a day');
    const cells = await images.getByRole('cell').allTextContents();
    expect(cells.slice(1, 7)).toEqual(['metered', '5 a day', 'plan', '2', '3', nextUtcMidnight()]);

    // An override wins over the plan's grant: web search off for this user.
    await page.getByRole('button', { name: 'Set the override of web_search' }).click();
    const override = page.getByRole('dialog', { name: `Override of web_search for user ${userId}` });
    await override.getByRole('switch', { name: 'Granted' }).uncheck();
    await shot(page, 'features-override');
    await override.getByRole('button', { name: 'Save override' }).click();
    const search = list.getByRole('row').filter({ hasText: 'web_search' });
    // The source cell, not the row's text: its "Set override" button says override already.
    await poll(() => search.getByRole('cell').allTextContents()).toContain('override');
    expect(await search.textContent()).toContain('not granted');
    const refused = await t.http
      .post('/api/entitlements/check')
      .set(bearer(token({ sub: userId })))
      .send({ userId, featureKey: 'web_search' })
      .expect(200);
    expect(refused.body).toMatchObject({ allowed: false, reason: 'not_granted' });
    await shot(page, 'features-user');

    // Removing it gives the plan's grant back.
    await page.getByRole('button', { name: 'Change the override of web_search' }).click();
    const removal = page.getByRole('dialog', { name: `Override of web_search for user ${userId}` });
    await removal.getByRole('radio', { name: 'No override (the plan decides)' }).check();
    await removal.getByRole('button', { name: 'Save override' }).click();
    await poll(() => search.textContent()).toContain('plan');
    expect(await search.textContent()).toContain('granted');

    // An org's own override: a config value.
    await page.goto(`${baseUrl}/admin/orgs/${orgId}`);
    await poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe(orgId);
    await page.getByRole('tab', { name: 'Features' }).click();
    await page.getByRole('button', { name: 'Set the override of context_window' }).click();
    const value = page.getByRole('dialog', { name: `Override of context_window for org ${orgId}` });
    await value.getByLabel('Value (JSON)').fill('{"tokens": 200000}');
    await value.getByRole('button', { name: 'Save override' }).click();
    const context = page
      .getByRole('table', { name: 'Features' })
      .getByRole('row')
      .filter({ hasText: 'context_window' });
    await poll(() => context.textContent()).toContain('{"tokens":200000}');
    expect(await context.textContent()).toContain('override');
    const orgCheck = await t.http
      .post('/api/entitlements/check')
      .set(as)
      .send({ orgId, featureKey: 'context_window' })
      .expect(200);
    expect(orgCheck.body).toMatchObject({ allowed: true, value: { tokens: 200000 } });
    await shot(page, 'features-org');

    const audit = await t.db.query(
      `SELECT action, count(*)::int AS n FROM audit_log WHERE action LIKE 'feature.%' OR action LIKE 'entitlement.%'
        GROUP BY action ORDER BY action`,
    );
    expect(Object.fromEntries(audit.rows.map((r) => [r.action, r.n]))).toMatchObject({
      'entitlement.set': 3,
      // web_search and context_window by the API, image_generation by the page (once, double-clicked).
      'feature.create': 3,
      'feature.update': 1,
    });
    expect(errors).toEqual([]);
  }, 180_000);
});
