import { describe, expect, it } from 'vitest';

import { PrincipalThrottlerGuard } from './principal-throttler.guard.js';

// getTracker only reads the request: call it without building the guard's dependencies.
const tracker = (req: Record<string, unknown>) =>
  (PrincipalThrottlerGuard.prototype as unknown as { getTracker(r: unknown): Promise<string> }).getTracker.call(
    {},
    req,
  );

describe('PrincipalThrottlerGuard tracker', () => {
  it('keys API-key callers by key, token callers by user, anonymous callers by address', async () => {
    expect(await tracker({ ip: '1.2.3.4', user: { userId: 'alice', via: 'api-key', apiKeyId: 'k1' } })).toBe('key:k1');
    expect(await tracker({ ip: '1.2.3.4', user: { userId: 'alice', via: 'jwt' } })).toBe('user:alice');
    expect(await tracker({ ip: '1.2.3.4' })).toBe('ip:1.2.3.4');
  });

  it('two keys of one user have separate budgets, and a user differs from its keys', async () => {
    const a = await tracker({ user: { userId: 'alice', apiKeyId: 'k1' } });
    const b = await tracker({ user: { userId: 'alice', apiKeyId: 'k2' } });
    const u = await tracker({ user: { userId: 'alice' } });
    expect(new Set([a, b, u]).size).toBe(3);
  });
});
