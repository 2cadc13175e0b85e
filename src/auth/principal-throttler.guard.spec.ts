import { describe, expect, it } from 'vitest';

import { trackerOf } from './principal-throttler.guard.js';

describe('PrincipalThrottlerGuard tracker', () => {
  it('keys an ordinary user by user, whichever key or token they use', () => {
    const viaKey1 = trackerOf({ ip: '1.2.3.4', user: { userId: 'alice', via: 'api-key', apiKeyId: 'k1', scopes: [] } });
    const viaKey2 = trackerOf({ ip: '1.2.3.4', user: { userId: 'alice', via: 'api-key', apiKeyId: 'k2', scopes: [] } });
    const viaToken = trackerOf({ ip: '1.2.3.4', user: { userId: 'alice', via: 'jwt', role: 'user' } });
    expect(new Set([viaKey1, viaKey2, viaToken])).toEqual(new Set(['user:alice']));
  });

  it('keys service principals apart from users: each service key, each admin', () => {
    const serviceKey = { userId: 'ops', via: 'api-key', apiKeyId: 'k9', scopes: ['usage:ingest'] };
    expect(trackerOf({ user: serviceKey })).toBe('service-key:k9');
    expect(trackerOf({ user: { userId: 'ops', via: 'jwt', role: 'admin' } })).toBe('service-user:ops');
    // The same admin's ordinary key is an ordinary user's.
    expect(trackerOf({ user: { userId: 'ops', via: 'api-key', apiKeyId: 'k8', scopes: ['usage:read'] } })).toBe(
      'user:ops',
    );
  });

  it('keys callers without a principal by address', () => {
    expect(trackerOf({ ip: '1.2.3.4' })).toBe('ip:1.2.3.4');
  });
});
