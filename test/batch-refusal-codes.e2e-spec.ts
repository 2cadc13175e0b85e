import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, principal } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * A batch event refused for a reason that has a code says it first, `CODE: message` (docs/errors.md
 * "The batch route"): a short balance, an unknown user, a bad event the service refuses with a code.
 */
describe('batch: refusals say their code', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const admin = principal('admin', 'batch-codes-admin');

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'bcode' });
    await t.http.get('/api/users/me').set(admin.auth).expect(200);
  });
  afterAll(() => t?.close());

  it('INSUFFICIENT_CREDITS, NOT_FOUND and VALIDATION come as CODE: message', async () => {
    const u = await f.newUser({ credits: 10 });
    const ev = (eventId: string, extra: Record<string, unknown>) => ({
      eventId: `${eventId}-${u.id}`,
      userId: u.id,
      service: 'chat',
      operation: 'completion',
      ...extra,
    });
    const res = await t.http
      .post('/api/usage/records/batch')
      .set(admin.auth)
      .send({
        events: [
          ev('ok', { credits: 4 }),
          ev('short', { credits: 40 }),
          ev('nobody', { credits: 1, userId: uniqueId('nobody') }),
          ev('kinds', { inputTokens: 10, cacheReadTokens: 5 }),
        ],
      })
      .expect(200);
    expect(res.body.results.map((r: { status: string; error?: string }) => [r.status, r.error ?? null])).toEqual([
      ['created', null],
      ['insufficient_credits', 'INSUFFICIENT_CREDITS: Insufficient credits'],
      ['invalid', 'NOT_FOUND: User not found'],
      ['invalid', 'VALIDATION: cacheReadTokens, cacheWriteTokens and reasoningTokens need a modelId'],
    ]);
    expect(await f.available(u.id)).toBe(6);
    await expectInvariants(t, users);
  });
});
