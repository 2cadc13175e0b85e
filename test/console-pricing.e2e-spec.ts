import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, type TestApp, token, uniqueId } from './support/app.js';
import { chromiumAvailable, poll, ServedConsole, shot } from './support/console-browser.js';

/**
 * The console's pricing by account in a real browser (as test/console.e2e-spec.ts): an account's prices
 * and model lists on its page, and a simulation run from the Pricing screen. Screenshots land in
 * test-results/console/ (pricing-*.png).
 */

let served: ServedConsole;
let t: TestApp;
let baseUrl: string;
const adminId = uniqueId('padmin');
const userId = uniqueId('puser');
const orgId = uniqueId('porg').toLowerCase();
const model = uniqueId('anthropic.console');
const admin = () => token({ sub: adminId, role: 'admin' });

describe.skipIf(!chromiumAvailable)('Console: pricing by account in a browser', () => {
  beforeAll(async () => {
    // A database of its own: the simulation runs over every record of its range, and other spec files
    // write records and change rules on the shared database meanwhile.
    served = await ServedConsole.onOwnDatabase('console_pricing', {}, 'console-pricing-');
    ({ t, baseUrl } = served);
    const as = bearer(admin());
    await t.http.get('/api/users/me').set(as).expect(200);
    await t.http
      .post('/api/credits/allocate')
      .set(as)
      .send({ userId, credits: 1000, email: `${userId}@example.com`, username: userId })
      .expect(201);
    await t.http.post('/api/orgs').set(as).send({ orgId, name: 'Pricing Org', ownerUserId: userId }).expect(201);
    const planId = uniqueId('pplan')
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '');
    await t.http
      .post('/api/plans')
      .set(as)
      .send({ id: planId, name: 'Research', credits: 100, period: 'month', models: ['anthropic.*', 'mistral.*'] })
      .expect(201);
    await t.http.put(`/api/orgs/${orgId}/subscription`).set(as).send({ planId }).expect(200);
    await t.http
      .put(`/api/orgs/${orgId}/models`)
      .set(as)
      .send({ models: ['anthropic.*', 'mistral.large'] })
      .expect(200);
    await t.http.post('/api/pricing').set(as).send({ modelId: model, pricePer1kTokens: '2' }).expect(201);
    await t.http
      .post('/api/pricing/accounts')
      .set(as)
      .send({
        userId,
        modelId: 'anthropic.*',
        discountPercent: '12.5',
        effectiveFrom: new Date().toISOString(),
        notes: 'Contract 118',
      })
      .expect(201);
    for (const tokens of [1000, 2500, 4000]) {
      await t.http
        .post('/api/usage/record')
        .set(as)
        .send({ userId, service: 'chat', operation: 'c', modelId: model, tokens })
        .expect(201);
    }
  }, 120_000);
  afterAll(async () => {
    await served?.close();
  });

  it("shows an account's prices and model lists, and runs a simulation from the Pricing screen", async () => {
    const { page, errors } = await served.open();
    await served.signIn(page, admin());

    await page.goto(`${baseUrl}/admin/users/${userId}`);
    await poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe(userId);
    await page.getByRole('tab', { name: 'Pricing' }).click();
    const prices = page.getByRole('table', { name: 'Account prices' });
    const row = prices.getByRole('row').filter({ hasText: 'anthropic.*' });
    await poll(() => row.textContent()).toContain('12.50 % off the rule');
    expect(await row.textContent()).toContain('Contract 118');
    await shot(page, 'pricing-user');

    await page.goto(`${baseUrl}/admin/orgs/${orgId}`);
    await poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe(orgId);
    await page.getByRole('tab', { name: 'Pricing' }).click();
    await page.getByText("The organisation's list:").waitFor();
    await poll(() => page.getByText('mistral.large', { exact: true }).count()).toBe(1);
    await poll(() => page.getByText('mistral.*', { exact: true }).count()).toBe(1);
    await page.getByText('No account price: every model costs its rule.').waitFor();
    await shot(page, 'pricing-org');

    await page.getByRole('navigation').getByRole('link', { name: 'Pricing' }).click();
    await page.getByRole('heading', { name: 'Simulate a price change' }).waitFor();
    const rules = page.getByLabel('Rules to simulate');
    await poll(() => rules.inputValue()).toContain(model);
    // The rules in force: 1,000, 2,500 and 4,000 tokens at 2 × 0.875 were billed 2 + 5 + 7 = 14, and cost that again.
    await page.getByRole('button', { name: 'Run simulation' }).click();
    const table = page.getByRole('table', { name: 'Simulation' });
    const line = table.getByRole('row').filter({ hasText: model });
    await poll(() => line.textContent()).toBe(`${model}314140`);
    await poll(() => page.getByLabel('Difference').textContent()).toBe('0');
    await shot(page, 'pricing-simulation-same', { subject: line });
    // Half the price: at 1 × 0.875 they cost 1 + 3 + 4 = 8, rounded up once each.
    await rules.fill(JSON.stringify([{ modelId: model, pricePer1kTokens: '1' }]));
    await page.getByRole('button', { name: 'Run simulation' }).click();
    await poll(() => line.textContent()).toBe(`${model}3148-6`);
    await shot(page, 'pricing-simulation-cheaper', { subject: line });
    const records = await t.db.query(`SELECT count(*)::int AS n FROM usage_records WHERE user_id = $1`, [userId]);
    expect(records.rows[0].n).toBe(3);
    expect(errors).toEqual([]);
  });
});
