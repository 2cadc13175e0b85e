import { readFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, type TestApp, token, uniqueId } from './support/app.js';
import { chromiumAvailable, keysSent, poll, ServedConsole, settled, shot } from './support/console-browser.js';

/**
 * The admin console in a real browser (Debian's chromium, driven by playwright-core), served by the
 * app itself at /admin from a fresh build. Only 127.0.0.1 is reachable from the page; a console error
 * or a CSP violation fails the test. Screenshots of each screen land in test-results/console/.
 */

let served: ServedConsole;
let t: TestApp;
let baseUrl: string;
const adminId = uniqueId('cadmin');
const supervisorId = uniqueId('csuper');
const customerId = uniqueId('ccust');
const admin = () => token({ sub: adminId, role: 'admin' });
const PROVIDER_USAGE = {
  format: 'anthropic',
  usage: { input_tokens: 42, output_tokens: 99, cache_creation_input_tokens: 7, cache_read_input_tokens: 8 },
};
const supervisor = () => token({ sub: supervisorId, role: 'supervisor' });

describe.skipIf(!chromiumAvailable)('Admin console in a browser', () => {
  beforeAll(async () => {
    // A database of its own: the review queue, the Pricing page and the Plans page list every item,
    // rule and plan of their database, and on the shared one each load, render and shot of them grew
    // with what the spec files before this one had made.
    served = await ServedConsole.onOwnDatabase('console', {});
    ({ t, baseUrl } = served);
    await t.http.get('/api/users/me').set(bearer(admin())).expect(200);
    await t.http.get('/api/users/me').set(bearer(supervisor())).expect(200);
    await t.http
      .post('/api/credits/allocate')
      .set(bearer(admin()))
      .send({ userId: customerId, credits: 10, email: `${customerId}@example.com`, username: customerId })
      .expect(201);
    const customer = bearer(token({ sub: customerId }));
    await t.http
      .post('/api/usage/record')
      .set(customer)
      .send({ service: 'chat', operation: 'reply, "quoted"', credits: 3 })
      .expect(201);
    // A record metered by token kinds (the default price, 1 credit per 1,000 tokens: 3 credits).
    await t.http
      .post('/api/usage/record')
      .set(customer)
      .send({
        service: 'chat',
        operation: 'cached reply',
        modelId: 'console-test-model',
        inputTokens: 1500,
        outputTokens: 500,
        cacheReadTokens: 200,
      })
      .expect(201);
    // A record billed from the provider's own usage object (Anthropic's), kept as sent.
    await t.http
      .post('/api/usage/record')
      .set(customer)
      .send({
        service: 'chat',
        operation: 'provider reply',
        modelId: 'console-test-model',
        providerUsage: PROVIDER_USAGE,
      })
      .expect(201);
    // An overrun the balance cannot pay: a usage record in the review queue.
    const init = await t.http
      .post('/api/streaming-sessions/initialize')
      .set(customer)
      .send({ modelId: 'console-test-model', estimatedTokens: 1000 })
      .expect(201);
    await t.http
      .post('/api/streaming-sessions/finalize')
      .set(customer)
      .send({ sessionId: init.body.sessionId, actualTokens: 50_000, termination: 'max_tokens' })
      .expect(200);
  }, 120_000);
  afterAll(async () => {
    await served?.close();
  });

  it('serves /admin with a strict CSP, immutable hashed assets and the SPA fallback; the API is untouched', async () => {
    const index = await t.http.get('/admin/users/someone').expect(200);
    expect(index.headers['content-type']).toMatch(/text\/html/);
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    expect(index.headers['content-security-policy']).not.toMatch(/script-src[^;]*unsafe/);
    const asset = /\/admin\/assets\/[^"]+\.js/.exec(index.text)?.[0];
    expect(asset).toBeDefined();
    const js = await t.http.get(asset!).expect(200);
    expect(js.headers['cache-control']).toContain('immutable');
    await t.http.get('/admin/assets/missing-0000.js').expect(404);
    const api = await t.http.get('/api/health').expect(200);
    expect(api.headers['content-security-policy']).toBeUndefined();
  });

  it('signs in, finds a user, grants once on a double click, voids with a reason, downloads the CSV', async () => {
    const { page, context, errors, sent } = await served.open();
    await served.signIn(page, admin());
    await poll(() => page.getByRole('link', { name: 'Audit log' }).isVisible()).toBe(true);
    await shot(page, 'overview');

    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByLabel('Search users').fill(customerId);
    await page.getByRole('link', { name: customerId }).waitFor();
    await poll(() => new URL(page.url()).searchParams.get('search')).toBe(customerId); // filters live in the URL
    await shot(page, 'users');
    await page.getByRole('link', { name: customerId }).click();
    await poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe(customerId);
    await poll(() => page.getByLabel('Available credits').textContent()).toBe('0');
    await shot(page, 'user');

    await page.getByRole('button', { name: 'Grant credits' }).click();
    const grant = page.getByRole('dialog');
    await grant.getByLabel('Credits').fill('250');
    await grant.getByLabel('Expires in days').fill('30');
    await shot(page, 'grant-dialog');
    const beforeGrant = sent.length;
    await grant.getByRole('button', { name: 'Grant' }).dblclick();
    await grant.waitFor({ state: 'detached' });
    await poll(() => page.getByLabel('Available credits').textContent()).toBe('250');
    // Every request of the dialog's opening carried its one key.
    const grantKeys = keysSent(sent, 'POST', '/api/credits/allocate');
    expect(grantKeys.length).toBeGreaterThanOrEqual(1);
    expect(new Set(grantKeys).size).toBe(1);
    expect(grantKeys[0]).toMatch(/^[0-9a-f-]{36}$/);
    // Invalidation by key: the user's queries are fetched again, not every query (the operator's own
    // /api/users/me, the plans) as before.
    const refetched = sent.slice(beforeGrant).filter((s) => s.method === 'GET');
    expect(refetched.map((s) => s.path)).toContain(`/api/users/${customerId}`);
    expect(refetched.map((s) => s.path)).not.toContain('/api/users/me');
    const allocations = await t.http
      .get(`/api/credits/allocations?userId=${customerId}`)
      .set(bearer(admin()))
      .expect(200);
    const granted = allocations.body.items.filter((a: any) => a.totalCredits === 250);
    expect(granted).toHaveLength(1);

    const row = page.getByRole('row').filter({ hasText: granted[0].id });
    await row.getByRole('button', { name: 'Void' }).click();
    const voidDialog = page.getByRole('dialog');
    await voidDialog.getByLabel('Reason').fill('granted by mistake');
    await shot(page, 'void-dialog');
    await voidDialog.getByRole('button', { name: 'Void allocation' }).click();
    await voidDialog.waitFor({ state: 'detached' });
    await poll(() => page.getByLabel('Available credits').textContent()).toBe('0');
    await page.getByRole('tab', { name: 'Ledger' }).click();
    const voidRow = page.getByRole('table', { name: 'Ledger' }).getByRole('row').filter({ hasText: 'void' });
    await poll(() => voidRow.count()).toBe(1);
    expect(await voidRow.textContent()).toContain('-250');
    await shot(page, 'ledger');

    await page.getByRole('tab', { name: 'Usage' }).click();
    const usage = page.getByRole('table', { name: 'Usage records' });
    await usage.getByRole('row').nth(1).waitFor();
    // Token counts, each kind metered; a record charged in credits shows none.
    const tokensColumn = (await usage.getByRole('columnheader').allTextContents()).indexOf('Tokens');
    const tokensOf = (text: string) =>
      usage.getByRole('row').filter({ hasText: text }).getByRole('cell').nth(tokensColumn).textContent();
    expect(await tokensOf('cached reply')).toBe('in 1,500 · out 500 · cache read 200');
    expect(await tokensOf('chat-streaming')).toBe('50,000 total'); // the streamed session's overrun
    expect(await tokensOf('reply, "quoted"')).toBe('—');
    expect(await tokensOf('provider reply')).toBe('in 42 · out 99 · cache read 8 · cache write 7');
    // Where the counts came from and how a stream ended; the provider's usage object on demand.
    const sourceColumn = (await usage.getByRole('columnheader').allTextContents()).indexOf('Source');
    const sourceOf = (text: string) =>
      usage.getByRole('row').filter({ hasText: text }).getByRole('cell').nth(sourceColumn).textContent();
    expect(await sourceOf('provider reply')).toBe('provider');
    expect(await sourceOf('cached reply')).toBe('reported');
    expect(await sourceOf('chat-streaming')).toBe('reported · max_tokens');
    expect(await usage.getByRole('button', { name: 'Provider usage' }).count()).toBe(1);
    const expand = usage
      .getByRole('row')
      .filter({ hasText: 'provider reply' })
      .getByRole('button', { name: 'Provider usage' });
    await expand.click();
    expect(await expand.getAttribute('aria-expanded')).toBe('true');
    const shown = await usage.getByLabel('Provider usage').textContent();
    expect(JSON.parse(shown!)).toEqual(PROVIDER_USAGE.usage);
    await shot(page, 'usage');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const file = readFileSync((await download.path())!, 'utf8');
    const api = await t.http.get(`/api/usage/records/export?userId=${customerId}`).set(bearer(admin())).expect(200);
    expect(file).toBe(api.text);
    expect(file).toContain('"reply, ""quoted"""');

    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByLabel('Target id').fill(granted[0].id);
    await page.getByRole('button', { name: 'Filter' }).click();
    const entries = page.getByRole('table', { name: 'Audit entries' });
    await poll(() => entries.getByRole('row').filter({ hasText: 'credits.void' }).count()).toBe(1);
    expect(await entries.getByRole('row').filter({ hasText: 'credits.allocate' }).count()).toBe(1);
    expect(await entries.getByRole('row').filter({ hasText: 'granted by mistake' }).count()).toBe(1);
    // What changed, not whole objects: the void's changed fields, the grant's fields set; no nulls.
    const voided = await entries.getByRole('row').filter({ hasText: 'credits.void' }).textContent();
    expect(voided).toContain('remainingCredits 250 → 0');
    expect(voided).toContain('voidReason — → granted by mistake');
    expect(voided).not.toContain('totalCredits'); // unchanged
    const allocated = await entries.getByRole('row').filter({ hasText: 'credits.allocate' }).textContent();
    expect(allocated).toContain('created');
    expect(allocated).toContain('totalCredits 250');
    for (const text of [voided, allocated]) expect(text).not.toContain('null');
    for (const row of await entries.getByRole('row').all()) expect((await row.boundingBox())!.height).toBeLessThan(100);
    await shot(page, 'audit');
    // A record naming credits for another account is its own entry: it keeps no role, only how it was written.
    const named = await t.http
      .post('/api/usage/record')
      .set(bearer(admin()))
      .send({ userId: customerId, service: 'chat', operation: 'named by the console test', credits: 0 })
      .expect(201);
    await page.getByLabel('Target id').fill(customerId);
    await page.getByRole('button', { name: 'Filter' }).click();
    const recorded = entries.getByRole('row').filter({ hasText: 'usage.record' });
    await poll(() => recorded.count()).toBe(1);
    const recordRow = await recorded.textContent();
    expect(recordRow).toContain('(jwt)');
    expect(recordRow).toContain('named by the console test');
    expect(recordRow).not.toContain('undefined');
    expect(named.body.credits).toBe(0);
    await shot(page, 'audit-record');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('resolves a review item, creates a price rule, a webhook (resending a delivery) and a plan', async () => {
    const { page, context, errors, sent } = await served.open();
    await served.signIn(page, admin());

    await page.getByRole('link', { name: 'Review queue' }).click();
    const item = page.getByRole('row').filter({ hasText: customerId });
    await item.getByRole('button', { name: 'Resolve' }).click();
    const resolve = page.getByRole('dialog');
    await resolve.getByText('Write off').click();
    await resolve.getByLabel('Note').fill('goodwill');
    await shot(page, 'review');
    await resolve.getByRole('button', { name: 'Resolve' }).click();
    await resolve.waitFor({ state: 'detached' });
    const resolved = await t.http.get('/api/credits/review?status=resolved&limit=500').set(bearer(admin())).expect(200);
    const mine = resolved.body.items.filter((i: any) => i.userId === customerId);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ resolution: 'write_off', note: 'goodwill', resolvedBy: adminId });

    const modelId = uniqueId('console-model');
    await page.getByRole('link', { name: 'Pricing' }).click();
    await page.getByRole('button', { name: 'New price rule' }).click();
    const rule = page.getByRole('dialog');
    await rule.getByLabel('Model').fill(modelId);
    // Eleven decimal places: refused (400), shown, and corrected in the same opening (the same key).
    await rule.getByLabel(/^Price per 1k tokens/).fill('0.07000000001');
    await rule.getByRole('button', { name: 'Create rule' }).click();
    await rule.getByRole('alert').waitFor();
    await rule.getByLabel(/^Price per 1k tokens/).fill('0.0700');
    await rule.getByLabel('Cache-read price per 1k').fill('0.0070');
    await rule.getByLabel('Reasoning price per 1k').fill('0.2100');
    await rule.getByLabel('Long context above (tokens)').fill('200000');
    await rule.getByLabel('Long-context input per 1k').fill('0.1400');
    await rule.getByLabel('Long-context output per 1k').fill('0.4200');
    await shot(page, 'price-rule-dialog', { subject: rule });
    await rule.getByRole('button', { name: 'Create rule' }).click();
    await rule.waitFor({ state: 'detached' });
    const inEffect = page.getByRole('table', { name: 'Prices in effect' });
    const ruleRow = inEffect.getByRole('row').filter({ hasText: modelId });
    await ruleRow.waitFor();
    // Every price the rule bills by: output and cache write unset (the input price), the rest its own.
    const cells = await ruleRow.getByRole('cell').allTextContents();
    expect(cells.slice(0, 8)).toEqual([
      modelId,
      '0.0700',
      '0.0700 (= input)',
      '0.0070',
      '0.0700 (= input)',
      '0.2100',
      'above 200,000 tokens: in 0.1400 · out 0.4200',
      '—',
    ]);
    const price = await t.http.get(`/api/pricing/${modelId}`).set(bearer(admin())).expect(200);
    expect(price.body).toMatchObject({
      pricePer1kTokens: '0.0700',
      source: 'rule',
      reasoningPricePer1kTokens: '0.2100',
    });

    // A rule that starts tomorrow, for a model with no price yet: listed as scheduled, its history opens.
    // The dialog opens blank (not the last rule's values) and with a new key.
    const laterModel = uniqueId('console-later');
    const startsAt = new Date(Date.now() + 86_400_000).toISOString();
    await page.getByRole('button', { name: 'New price rule' }).click();
    const next = page.getByRole('dialog');
    for (const label of [/^Model/, /^Price per 1k tokens/, /^Cache-read price/, /^Long context above/]) {
      expect(await next.getByLabel(label).inputValue()).toBe('');
    }
    await next.getByLabel(/^Model/).fill(laterModel);
    await next.getByLabel(/^Price per 1k tokens/).fill('0.5000');
    await next.getByLabel(/^Effective from/).fill(startsAt);
    await next.getByRole('button', { name: 'Create rule' }).click();
    await next.waitFor({ state: 'detached' });
    const ruleKeys = keysSent(sent, 'POST', '/api/pricing');
    expect(ruleKeys).toHaveLength(3); // refused, corrected, the scheduled rule
    expect(ruleKeys[0]).toBe(ruleKeys[1]);
    expect(ruleKeys[2]).not.toBe(ruleKeys[0]);
    const scheduled = page.getByRole('table', { name: 'Scheduled prices' });
    await scheduled.getByRole('row').filter({ hasText: laterModel }).waitFor();
    expect(await inEffect.getByRole('row').filter({ hasText: laterModel }).count()).toBe(0);
    await scheduled.getByRole('button', { name: laterModel }).click();
    const history = page.getByRole('table', { name: `History of ${laterModel}` });
    await history.getByRole('row').nth(1).waitFor();
    expect(await history.getByRole('row').count()).toBe(2);
    expect(await history.getByRole('row').nth(1).textContent()).toContain(
      `${startsAt.slice(0, 10)} ${startsAt.slice(11, 19)} UTC`,
    );
    await shot(page, 'pricing', { subject: history });
    // Any model's history by its id.
    await page.getByLabel('Model id').fill(modelId);
    await page.getByRole('button', { name: 'Show history' }).click();
    await page
      .getByRole('table', { name: `History of ${modelId}` })
      .getByRole('row')
      .nth(1)
      .waitFor();

    // A price sheet through the import dialog (all or none, the generated importPricing mutation).
    const sheetModel = uniqueId('console-sheet');
    await page.getByRole('button', { name: 'Import rules' }).click();
    const sheet = page.getByRole('dialog');
    await sheet.getByLabel('Rules').fill(
      JSON.stringify({
        rules: [{ modelId: sheetModel, pricePer1kTokens: '3.0000', cacheReadPricePer1kTokens: '0.3000' }],
      }),
    );
    await sheet.getByRole('button', { name: 'Import' }).click();
    await sheet.waitFor({ state: 'detached' });
    await inEffect.getByRole('button', { name: sheetModel }).waitFor();
    const imported = await t.http.get(`/api/pricing/${sheetModel}`).set(bearer(admin())).expect(200);
    expect(imported.body).toMatchObject({ pricePer1kTokens: '3.0000', cacheReadPricePer1kTokens: '0.3000' });

    const url = `http://127.0.0.1:9/${uniqueId('hook')}`;
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('button', { name: 'New webhook' }).click();
    const create = page.getByRole('dialog');
    await create.getByLabel('URL').fill(url);
    // Subscribed to its own test events only: a '*' endpoint would collect every event the specs
    // running alongside emit on the shared database, and its test delivery could leave the first page.
    // The pills' box takes the click (hence force, which skips the wait for a still element): first
    // let the dialog finish opening, or the click lands where the field is not yet.
    await settled(page);
    await create.getByLabel('Events').click({ force: true });
    await page.getByRole('option', { name: '*', exact: true }).click(); // picked by default: unpicks it
    await page.getByRole('option', { name: 'webhook.test' }).click();
    await create.getByLabel('URL').click(); // closes the list
    await shot(page, 'webhook-create-dialog');
    await create.getByRole('button', { name: 'Create webhook' }).click();
    await create.waitFor({ state: 'detached' });
    expect(await page.getByLabel('Signing secret', { exact: true }).textContent()).toMatch(/^whsec_/);
    const endpoint = page.getByRole('row').filter({ hasText: url });
    expect(await endpoint.textContent()).toContain('webhook.test');
    await endpoint.getByRole('button', { name: 'Send test' }).click();
    const sendTest = page.getByRole('dialog');
    await sendTest.getByRole('button', { name: 'Send test' }).dblclick();
    await sendTest.waitFor({ state: 'detached' });
    await endpoint.getByRole('button', { name: 'Deliveries' }).click();
    const hooks = await t.http.get('/api/webhooks').set(bearer(admin())).expect(200);
    const hook = hooks.body.items.find((h: any) => h.url === url);
    expect(hook.events).toEqual(['webhook.test']);
    const deliveries = async () =>
      (await t.http.get(`/api/webhooks/${hook.id}/deliveries`).set(bearer(admin())).expect(200)).body.items as any[];
    // The test event, once for the double click, and nothing else.
    await poll(async () => (await deliveries()).map((d) => d.type)).toEqual(['webhook.test']);
    const [testDelivery] = await deliveries();
    // The delivery worker is off in tests: fail the delivery as the worker would after its last attempt.
    await t.db.query(
      `UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, attempts = 1, last_status_code = 500 WHERE id = $1`,
      [testDelivery.id],
    );
    await page.getByRole('button', { name: 'Refresh' }).click();
    const delivery = page.getByRole('table', { name: 'Deliveries' }).getByRole('row').filter({ hasText: 'failed' });
    await delivery.getByRole('button', { name: 'Resend' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Resend' }).click();
    await page.getByText('Queued again.').waitFor();
    await shot(page, 'webhooks');
    const after = await deliveries();
    expect(after.map((d) => [d.id, d.status])).toEqual([[testDelivery.id, 'pending']]);

    const firstSecret = await page.getByLabel('Signing secret', { exact: true }).textContent();
    await endpoint.getByRole('button', { name: 'Rotate secret' }).click();
    const rotate = page.getByRole('dialog');
    await rotate.getByRole('button', { name: 'Rotate' }).dblclick();
    await rotate.waitFor({ state: 'detached' });
    await poll(() => page.getByLabel('Signing secret', { exact: true }).textContent()).not.toBe(firstSecret);
    const rotations = await t.http
      .get(`/api/audit?action=webhook.rotate_secret&targetId=${hook.id}`)
      .set(bearer(admin()))
      .expect(200);
    expect(rotations.body.items).toHaveLength(1); // a double click rotates once

    const planId = uniqueId('plan').toLowerCase();
    await page.getByRole('link', { name: 'Plans' }).click();
    await page.getByRole('button', { name: 'New plan' }).click();
    const plan = page.getByRole('dialog');
    await plan.getByLabel(/^Plan id/).fill(planId);
    await plan.getByLabel(/^Name/).fill('Console Pro');
    await plan.getByLabel(/^Credits per period/).fill('1000');
    await plan.getByRole('button', { name: 'Create plan' }).click();
    await plan.waitFor({ state: 'detached' });
    const planRow = page.getByRole('row').filter({ hasText: planId });
    await planRow.waitFor();
    const plans = await t.http.get('/api/plans').set(bearer(admin())).expect(200);
    expect(plans.body.items.find((p: any) => p.id === planId)).toMatchObject({ credits: 1000, period: 'month' });
    // Its state in words, and deactivating it asks first.
    const stateColumn = (
      await page.getByRole('table', { name: 'Plans' }).getByRole('columnheader').allTextContents()
    ).indexOf('State');
    expect(await planRow.getByRole('cell').nth(stateColumn).textContent()).toBe('active');
    await shot(page, 'plans-active');
    await planRow.getByRole('button', { name: 'Deactivate' }).click();
    await page.getByRole('dialog').getByText('get no further grants').waitFor();
    await shot(page, 'plan-deactivate-dialog');
    await page.getByRole('dialog').getByRole('button', { name: 'Deactivate plan' }).click();
    await poll(() => planRow.getByRole('cell').nth(stateColumn).textContent()).toBe('inactive');
    expect(await planRow.getByRole('button', { name: 'Activate' }).count()).toBe(1);
    const deactivated = await t.http.get('/api/plans').set(bearer(admin())).expect(200);
    expect(deactivated.body.items.find((p: any) => p.id === planId)).toMatchObject({ isActive: false });

    for (const screen of ['Plans', 'Events', 'Overview'] as const) {
      await page.getByRole('link', { name: screen }).click();
      await page.getByRole('heading', { level: 1, name: screen }).waitFor();
      await shot(page, screen.toLowerCase());
    }
    // Chromium logs the one refused request (the price with five places) itself; nothing else.
    expect(errors).toEqual(['Failed to load resource: the server responded with a status of 400 (Bad Request)']);
    await context.close();
  });

  it('sets a key budget, revokes a key, sets limits and alerts, aborts a session: each confirmed', async () => {
    const holder = uniqueId('cholder');
    await t.http
      .post('/api/credits/allocate')
      .set(bearer(admin()))
      .send({ userId: holder, credits: 100, email: `${holder}@example.com`, username: holder })
      .expect(201);
    const own = bearer(token({ sub: holder }));
    const key = await t.http.post('/api/api-keys').set(own).send({ name: 'gateway' }).expect(201);
    const session = await t.http
      .post('/api/streaming-sessions/initialize')
      .set(own)
      .send({ modelId: 'console-test-model', estimatedTokens: 1000 })
      .expect(201);
    const { page, context, errors } = await served.open();
    await served.signIn(page, admin());
    await page.goto(`${baseUrl}/admin/users/${holder}`);
    await poll(() => page.getByLabel('Held credits').textContent()).toBe(String(session.body.allocatedCredits));

    await page.getByRole('tab', { name: 'API keys' }).click();
    const keyRow = page.getByRole('table', { name: 'API keys' }).getByRole('row').filter({ hasText: 'gateway' });
    await keyRow.getByRole('button', { name: 'Budget' }).click();
    const budget = page.getByRole('dialog');
    await budget.getByLabel('Credit limit (empty: none)').fill('100');
    await budget.getByLabel('Period (UTC)').click();
    await page.getByRole('option', { name: 'day' }).click();
    await shot(page, 'key-budget-dialog');
    await budget.getByRole('button', { name: 'Save budget' }).click();
    await budget.waitFor({ state: 'detached' });
    await poll(() => keyRow.textContent()).toContain('0 of 100 / day');
    // Revoking asks first: cancelled, the key stays active; confirmed, it is revoked.
    await keyRow.getByRole('button', { name: 'Revoke' }).click();
    const revoke = page.getByRole('dialog');
    await revoke.getByText('cannot be undone').waitFor();
    await shot(page, 'key-revoke-dialog');
    await revoke.getByRole('button', { name: 'Cancel' }).click();
    await revoke.waitFor({ state: 'detached' });
    expect(await keyRow.textContent()).toContain('active');
    await keyRow.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke key' }).click();
    await poll(() => keyRow.textContent()).toContain('revoked');
    const keys = await t.http.get(`/api/api-keys?userId=${holder}`).set(bearer(admin())).expect(200);
    expect(keys.body.items).toEqual([
      expect.objectContaining({ id: key.body.id, isActive: false, creditLimit: 100, limitPeriod: 'day' }),
    ]);

    await page.getByRole('tab', { name: 'Limits and alerts' }).click();
    await page.getByRole('button', { name: 'Set limits' }).click();
    const limits = page.getByRole('dialog');
    await limits.getByLabel('Overdraft limit').fill('5');
    await limits.getByLabel('Max credits per hour (empty: none)').fill('60');
    await limits.getByRole('button', { name: 'Save limits' }).click();
    await limits.waitFor({ state: 'detached' });
    await page.getByText('Overdraft limit: 5 · Max credits per hour: 60').waitFor();
    await page.getByRole('button', { name: 'Set alert thresholds' }).click();
    const alerts = page.getByRole('dialog');
    await alerts.getByLabel('Thresholds (comma-separated credits)').fill('50, 10');
    await alerts.getByRole('button', { name: 'Save thresholds' }).click();
    await alerts.waitFor({ state: 'detached' });
    await page.getByText(/Low-balance alerts below: .*10.*50|Low-balance alerts below: .*50.*10/).waitFor();
    await shot(page, 'limits');
    const limitsNow = await t.http.get(`/api/credits/limits/${holder}`).set(bearer(admin())).expect(200);
    expect(limitsNow.body).toMatchObject({ overdraftLimit: 5, maxCreditsPerHour: 60 });
    const alertsNow = await t.http.get(`/api/credits/alerts/${holder}`).set(bearer(admin())).expect(200);
    expect([...alertsNow.body.thresholds].sort((a: number, b: number) => a - b)).toEqual([10, 50]);

    await page.getByRole('tab', { name: 'Sessions' }).click();
    const sessionRow = page.getByRole('row').filter({ hasText: session.body.sessionId });
    await sessionRow.getByRole('button', { name: 'Abort' }).click();
    const abort = page.getByRole('dialog');
    await abort.getByText('nothing is charged').waitFor();
    await shot(page, 'session-abort-dialog');
    await abort.getByRole('button', { name: 'Abort session' }).dblclick();
    await abort.waitFor({ state: 'detached' });
    await poll(() => sessionRow.count()).toBe(0);
    await poll(() => page.getByLabel('Held credits').textContent()).toBe('0');
    expect(await page.getByLabel('Available credits').textContent()).toBe('100');
    const stored = await t.db.query(`SELECT status, actual_credits FROM streaming_sessions WHERE session_id = $1`, [
      session.body.sessionId,
    ]);
    expect(stored.rows).toEqual([{ status: 'aborted', actual_credits: 0 }]);
    // The admin aborting another user's session is audited, once for the double click.
    const audit = await t.http
      .get('/api/audit')
      .query({ action: 'session.abort', targetId: `${holder}/${session.body.sessionId}` })
      .set(bearer(admin()))
      .expect(200);
    expect(audit.body.items).toHaveLength(1);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('pages the ledger with Load more; subscribes a user to a plan and ends it', async () => {
    const planId = uniqueId('cplan').toLowerCase();
    await t.http
      .post('/api/plans')
      .set(bearer(admin()))
      .send({ id: planId, name: 'Console plan', credits: 30, period: 'month' })
      .expect(201);
    const member = uniqueId('cmember');
    await t.http
      .post('/api/credits/allocate')
      .set(bearer(admin()))
      .send({ userId: member, credits: 100, email: `${member}@example.com`, username: member })
      .expect(201);
    // 55 debits and the grant: 56 ledger entries, one page of 50 and the rest.
    const events = Array.from({ length: 55 }, (_, i) => ({
      eventId: `${member}-${i}`,
      service: 'chat',
      operation: 'reply',
      credits: 1,
    }));
    await t.http
      .post('/api/usage/records/batch')
      .set(bearer(token({ sub: member })))
      .send({ events })
      .expect(200);
    const { page, context, errors } = await served.open();
    await served.signIn(page, admin());
    await page.goto(`${baseUrl}/admin/users/${member}`);
    await poll(() => page.getByLabel('Available credits').textContent()).toBe('45');

    await page.getByRole('tab', { name: 'Ledger' }).click();
    const ledger = page.getByRole('table', { name: 'Ledger' }).getByRole('row');
    await poll(() => ledger.count()).toBe(1 + 50);
    await page.getByRole('button', { name: 'Load more' }).click();
    await poll(() => ledger.count()).toBe(1 + 56);
    expect(await ledger.filter({ hasText: 'grant' }).count()).toBe(1);
    await poll(() => page.getByRole('button', { name: 'Load more' }).count()).toBe(0);
    await shot(page, 'ledger-all-pages');

    await page.getByRole('tab', { name: 'Plan' }).click();
    const panel = page.getByRole('tabpanel');
    await panel.getByText('No plan.').waitFor();
    await panel.getByRole('button', { name: 'Subscribe' }).click();
    const subscribe = page.getByRole('dialog');
    await subscribe.getByLabel(/^Plan/).click();
    await page.getByRole('option', { name: /Console plan/ }).click();
    await shot(page, 'plan-subscribe-dialog');
    await subscribe.getByRole('button', { name: 'Subscribe' }).click();
    await subscribe.waitFor({ state: 'detached' });
    await panel.getByText(`Plan ${planId}, period`).waitFor();
    await poll(() => page.getByLabel('Available credits').textContent()).toBe('75');
    await shot(page, 'plan');
    const subscribed = await t.http.get(`/api/users/${member}/subscription`).set(bearer(admin())).expect(200);
    expect(subscribed.body).toMatchObject({ planId });
    await panel.getByRole('button', { name: 'End subscription' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'End subscription' }).click();
    await panel.getByText('No plan.').waitFor();
    await t.http.get(`/api/users/${member}/subscription`).set(bearer(admin())).expect(404);

    // The user's own events, newest first: the plan's grant and the subscription's change (told in
    // one transaction, so in either order), the first debit crossing the default threshold of 100,
    // the allocation; nobody else's.
    await page.getByRole('tab', { name: 'Events' }).click();
    const userEvents = page.getByRole('table', { name: 'Events' }).getByRole('row');
    await poll(() => userEvents.count()).toBe(1 + 4);
    const texts = (await userEvents.allTextContents()).slice(1);
    const kinds = texts.map((text) => /credits\.granted|balance\.low|subscription\.changed/.exec(text)?.[0]);
    expect(kinds.slice(0, 2).sort()).toEqual(['credits.granted', 'subscription.changed']);
    expect(kinds.slice(2)).toEqual(['balance.low', 'credits.granted']);
    for (const text of texts) expect(text).toContain(`"userId":"${member}"`);
    await shot(page, 'user-events');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('a day of 25,000 credits: the charts label their y axis whole', async () => {
    const heavy = uniqueId('cheavy');
    await t.http
      .post('/api/credits/allocate')
      .set(bearer(admin()))
      .send({ userId: heavy, credits: 100_000, email: `${heavy}@example.com`, username: heavy })
      .expect(201);
    await t.http
      .post('/api/usage/record')
      .set(bearer(token({ sub: heavy })))
      .send({ service: 'chat', operation: 'bulk', credits: 25_000 })
      .expect(201);
    const { page, context, errors } = await served.open();
    await served.signIn(page, admin());
    // The y axis is as wide as its widest label in the axis font, ticks and gap included (it was a
    // fixed 50 px: "25,000" showed as "5,000").
    const yAxisFits = (chart: string) =>
      page.getByRole('img', { name: chart, exact: true }).evaluate((element) => {
        const axes = element.querySelectorAll<HTMLElement>('.u-axis');
        const context2d = document.createElement('canvas').getContext('2d')!;
        context2d.font = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
        return { width: axes[1].offsetWidth, label: Math.ceil(context2d.measureText('25,000').width) };
      });
    await page.goto(`${baseUrl}/admin/users/${heavy}`);
    await page.getByRole('tab', { name: 'Usage' }).click();
    const usageChart = 'Credits per UTC day, last 30 days';
    await page.getByRole('img', { name: usageChart, exact: true }).locator('canvas').waitFor();
    const user = await yAxisFits(usageChart);
    expect(user.width).toBeGreaterThanOrEqual(user.label + 15);
    await shot(page, 'usage-chart');
    await page.getByRole('navigation').getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('img', { name: 'Credits per UTC day', exact: true }).locator('canvas').waitFor();
    const overview = await yAxisFits('Credits per UTC day');
    expect(overview.width).toBeGreaterThanOrEqual(overview.label + 15);
    await shot(page, 'overview-chart');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('a supervisor is offered no void and no webhook actions; a user-role token is told it needs more', async () => {
    const { page, context, errors } = await served.open();
    await page.goto(`${baseUrl}/admin/`);
    await page.getByLabel('Access token').fill(token({ sub: customerId }));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('needs a supervisor or admin').waitFor();
    await shot(page, 'user-role-refused');

    // An allocation with credits left: an admin would see its Void button.
    const funded = uniqueId('cfunded');
    await t.http
      .post('/api/credits/allocate')
      .set(bearer(admin()))
      .send({ userId: funded, credits: 40, email: `${funded}@example.com`, username: funded })
      .expect(201);
    await served.signIn(page, supervisor());
    await page.getByRole('link', { name: 'Users' }).click();
    // Clicked at once (the user is on the unfiltered first page): the search box's write to the URL,
    // due once typing pauses, must not take the operator back to the list.
    await page.getByLabel('Search users').fill(funded);
    await page.getByRole('link', { name: funded }).click();
    await page.getByRole('heading', { level: 1, name: funded }).waitFor();
    await poll(() => page.getByLabel('Available credits').textContent()).toBe('40');
    await page.getByRole('table').getByRole('row').filter({ hasText: '40' }).waitFor();
    expect(await page.getByRole('button', { name: 'Void' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Grant credits' }).count()).toBe(1);
    await shot(page, 'supervisor-user');
    expect(new URL(page.url()).pathname).toBe(`/admin/users/${funded}`);
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByText('managed by admins').waitFor();
    for (const name of ['New webhook', 'Send test', 'Rotate secret', 'Resend', 'Pause']) {
      expect(await page.getByRole('button', { name }).count()).toBe(0);
    }
    expect(errors).toEqual([]);
    await context.close();
  });

  it('an expired token leads to one sign-in page, with no loop', async () => {
    const { page, context, errors } = await served.open();
    const expired = token({ sub: adminId, role: 'admin' }, { expiresIn: -60 });
    const calls: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/api/')) calls.push(request.url());
    });
    await page.goto(`${baseUrl}/admin/`);
    await page.evaluate((value) => sessionStorage.setItem('accounting-console.token', value), expired);
    await page.goto(`${baseUrl}/admin/users`);
    await page.getByText('Your session has expired').waitFor();
    await page.getByLabel('Access token').waitFor();
    const settled = calls.length;
    await page.waitForTimeout(1500); // a loop would keep calling the API: it stays quiet
    expect(calls.length).toBe(settled);
    expect(calls.length).toBe(1);
    expect(await page.getByRole('button', { name: 'Sign in' }).count()).toBe(1);
    await shot(page, 'expired');
    // Chromium logs the refused request itself; nothing else may be logged.
    expect(errors.filter((e) => !e.includes('status of 401'))).toEqual([]);
    await context.close();
  });
});
