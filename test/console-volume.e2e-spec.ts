import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, type TestApp, token, uniqueId } from './support/app.js';
import { chromiumAvailable, poll, ServedConsole, shot } from './support/console-browser.js';

/**
 * Volume steps in the console (docs/pricing.md "Volume steps"): a price rule made with graduated
 * steps in the rule form, a malformed table refused under the field, the steps shown in the rule's
 * history and carried into "Change prices". Screenshots land in test-results/console/ (volume-*.png).
 */

let served: ServedConsole;
let t: TestApp;
const adminId = uniqueId('vadmin');
const model = uniqueId('openai.console-volume');
const admin = () => token({ sub: adminId, role: 'admin' });

describe.skipIf(!chromiumAvailable)('Console: volume steps on a price rule', () => {
  beforeAll(async () => {
    // A database of its own: the Pricing page lists every price rule of its database, and on the
    // shared one its loads and renders grew with the rules the spec files before this one had made.
    served = await ServedConsole.onOwnDatabase('console_volume', {}, 'console-volume-');
    ({ t } = served);
    await t.http.get('/api/users/me').set(bearer(admin())).expect(200);
  }, 120_000);
  afterAll(async () => {
    await served?.close();
  });

  // Its screenshots may take up to two minutes on a loaded machine (saveShot's tries).
  it('makes a rule with graduated steps in its form, shown in its history', { timeout: 180_000 }, async () => {
    const { page, errors, context } = await served.open();
    await served.signIn(page, admin());
    await page.getByRole('navigation').getByRole('link', { name: 'Pricing' }).click();
    await page.getByRole('button', { name: 'New price rule' }).click();
    const dialog = page.getByRole('dialog', { name: 'New price rule' });
    await dialog.getByLabel('Model').fill(model);
    await dialog.getByLabel('Price per 1k tokens').fill('1000');
    await dialog.getByLabel('Volume pricing').selectOption('graduated');
    const steps = dialog.getByLabel('Volume steps (percent of every price)');
    await steps.fill('1000');
    await dialog.getByText('Volume steps: write upTo=percent pairs, the last *=percent ("1000")').waitFor();
    expect(await dialog.getByRole('button', { name: 'Create rule' }).isDisabled()).toBe(true);
    await steps.fill('1000=100 3000=50 *=25');
    await shot(page, 'volume-rule-form', { fullPage: false });
    await dialog.getByRole('button', { name: 'Create rule' }).click();
    const history = page.getByRole('table', { name: `History of ${model}` });
    const row = history.getByRole('row').nth(1);
    await poll(() => row.textContent()).toContain(
      'Graduated, month: ≤1,000 100.00 % · ≤3,000 50.00 % · beyond 25.00 %',
    );
    await row.scrollIntoViewIfNeeded();
    await shot(page, 'volume-history', { fullPage: false });
    const rules = await t.http.get(`/api/pricing/${model}/history`).set(bearer(admin())).expect(200);
    expect(rules.body.items[0].volume).toEqual({
      mode: 'graduated',
      period: 'month',
      steps: [
        { upTo: 1000, pricePercent: '100.00' },
        { upTo: 3000, pricePercent: '50.00' },
        { upTo: null, pricePercent: '25.00' },
      ],
    });
    expect(errors).toEqual([]);
    await context.close();
  });
});
