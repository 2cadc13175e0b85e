import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, type TestApp, token, uniqueId } from './support/app.js';
import { chromiumAvailable, poll, ServedConsole, shot } from './support/console-browser.js';

/**
 * A gateway record's request on a user's Usage tab (docs/console.md, docs/gateway.md "Settlement"):
 * its route, upstream, reason and status, and the request id that names it in the logs, beside the
 * service; a record of another service shows its service alone. Screenshot: gateway-usage.png.
 */
let served: ServedConsole;
let t: TestApp;
let baseUrl: string;
const adminId = uniqueId('gwadmin');
const userId = uniqueId('gwuser');
const requestId = `req-${uniqueId('gw')}`;
const admin = () => token({ sub: adminId, role: 'admin' });

describe.skipIf(!chromiumAvailable)('Console: a record’s gateway request', () => {
  beforeAll(async () => {
    served = await ServedConsole.start({}, 'console-gateway-');
    ({ t, baseUrl } = served);
    const as = bearer(admin());
    await t.http.get('/api/users/me').set(as).expect(200);
    await t.http
      .post('/api/credits/allocate')
      .set(as)
      .send({ userId, credits: 1000, email: `${userId}@example.com`, username: userId })
      .expect(201);
    // The rows a gateway settlement and an expiry write (the settlement itself: test/gateway*.e2e-spec.ts).
    await t.db.query(
      `INSERT INTO usage_records (user_id, service, operation, credits, model_id, metadata, "timestamp", account_id)
       SELECT v.*, a.account_id FROM (VALUES
              ($1, 'gateway', 'completion', 7, 'gpt-4o-mini', $2::jsonb, now() - interval '2 hours'),
              ($1, 'gateway', 'completion', 9, 'claude-sonnet-4-5', $3::jsonb, now() - interval '1 hour'),
              ($1, 'chat', 'completion', 3, 'gpt-4o-mini', '{"sessionId":"s"}'::jsonb, now())) v
       JOIN accounts a ON a.user_id = $1`,
      [
        userId,
        JSON.stringify({
          gateway: { requestId, upstream: 'openai', route: '/v1/chat/completions', status: 200, reason: 'reported' },
        }),
        JSON.stringify({
          gateway: {
            requestId: `${requestId}-2`,
            upstream: 'anthropic',
            route: '/v1/messages',
            status: 0,
            reason: 'expired',
          },
        }),
      ],
    );
  }, 120_000);
  afterAll(() => served?.close());

  it('shows each gateway record’s route, upstream, reason, status and request id under its service', async () => {
    const { page, errors, context } = await served.open();
    await served.signIn(page, admin());
    await page.goto(`${baseUrl}/admin/users/${userId}`);
    await page.getByRole('tab', { name: 'Usage' }).click();
    const usage = page.getByRole('table', { name: 'Usage records' });
    await poll(() => usage.getByRole('row').count()).toBe(4);
    const column = (await usage.getByRole('columnheader').allTextContents()).indexOf('Service');
    const cells = await usage
      .getByRole('row')
      .evaluateAll((rows, i) => rows.slice(1).map((r) => r.querySelectorAll('td')[i]?.innerText), column);
    expect(cells).toEqual([
      'chat',
      `gateway\n/v1/messages · anthropic · expired · no status\n${requestId}-2`,
      `gateway\n/v1/chat/completions · openai · reported · 200\n${requestId}`,
    ]);
    await shot(page, 'gateway-usage');
    expect(errors).toEqual([]);
    await context.close();
  });
});
