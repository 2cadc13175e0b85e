import { describe, expect, it } from 'vitest';

import type { AuthUser } from '../auth/roles.js';
import { chargedAccount } from './account-ref.js';
import { type NamedKey, payerOf, throughNamedKey } from './payer.js';

const jwt = (userId: string, role: AuthUser['role'] = 'user'): AuthUser => ({
  userId,
  role,
  email: null,
  username: null,
  via: 'jwt',
});
const key = (userId: string, extra: Partial<AuthUser> = {}): AuthUser => ({
  ...jwt(userId),
  via: 'api-key',
  apiKeyId: `key-of-${userId}`,
  scopes: ['usage:write'],
  ...extra,
});
const serviceKey = key('svc', { scopes: ['usage:ingest'], models: ['m-1'] });
const aliceKey: NamedKey = { charges: chargedAccount(null, 'alice'), active: true, models: ['m-2'] };

const code = (f: () => unknown) => {
  try {
    f();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return 'none';
};

describe('payerOf', () => {
  it('bills the caller’s own account through its key when the caller is no service principal', () => {
    const payer = payerOf(key('bob'), {}, undefined);
    expect(payer.account).toMatchObject({ kind: 'user', ownerId: 'bob' });
    expect(payer).toEqual({
      account: { kind: 'user', ownerId: 'bob', memberId: null },
      apiKeyId: 'key-of-bob',
      createdBy: 'bob',
      actor: { apiKeyId: 'key-of-bob', actorId: null },
      keyModels: [null],
    });
  });

  it('lets no one but a service principal name the billed user or a key', () => {
    expect(code(() => payerOf(jwt('bob'), { userId: 'alice' }, undefined))).toBe('VALIDATION');
    expect(code(() => payerOf(key('bob'), { apiKeyId: 'k' }, undefined))).toBe('VALIDATION');
  });

  it('has a service key name the billed user, and an admin token meter its own account without one', () => {
    expect(code(() => payerOf(serviceKey, {}, undefined))).toBe('VALIDATION');
    expect(payerOf(jwt('root', 'admin'), {}, undefined).account).toMatchObject({ kind: 'user', ownerId: 'root' });
  });

  it('bills the user a service key names, through the service key, with the writer as actor', () => {
    const payer = payerOf(serviceKey, { userId: 'alice' }, 'acme');
    expect(payer.account).toMatchObject({ kind: 'org', ownerId: 'acme' });
    expect(payer).toMatchObject({
      account: { kind: 'org', ownerId: 'acme', memberId: 'alice' },
      apiKeyId: 'key-of-svc',
      createdBy: 'svc',
      actor: { apiKeyId: 'key-of-svc', actorId: 'svc' },
      keyModels: [['m-1']],
    });
  });

  it('charges the organisation of a membership’s key, and refuses another org it names', () => {
    const member = key('bob', { orgId: 'acme' });
    expect(payerOf(member, {}, undefined).account).toMatchObject({ kind: 'org', ownerId: 'acme' });
    expect(payerOf(member, {}, 'acme').account).toEqual({ kind: 'org', ownerId: 'acme', memberId: 'bob' });
    expect(code(() => payerOf(member, {}, 'other'))).toBe('NOT_A_MEMBER');
  });
});

describe('throughNamedKey', () => {
  const named = { userId: 'alice', apiKeyId: 'k-alice' };
  const party = payerOf(serviceKey, named, undefined);

  it('goes through the named key: its id, and its models beside the caller’s', () => {
    const payer = throughNamedKey(party, undefined, aliceKey);
    expect(payer.account).toMatchObject({ kind: 'user', ownerId: 'alice' });
    expect(payer).toMatchObject({
      apiKeyId: 'k-alice',
      keyModels: [['m-1'], ['m-2']],
    });
  });

  it('answers an unknown key, another user’s and a revoked one with API_KEY_MISMATCH', () => {
    expect(code(() => throughNamedKey(party, undefined, null))).toBe('API_KEY_MISMATCH');
    expect(code(() => throughNamedKey(party, undefined, { ...aliceKey, charges: chargedAccount(null, 'bob') }))).toBe(
      'API_KEY_MISMATCH',
    );
    // A key of bob's membership of an org alice's name happens to be: bob's key, not alice's.
    expect(
      code(() => throughNamedKey(party, undefined, { ...aliceKey, charges: chargedAccount('alice', 'bob') })),
    ).toBe('API_KEY_MISMATCH');
    expect(code(() => throughNamedKey(party, undefined, { ...aliceKey, active: false }))).toBe('API_KEY_MISMATCH');
  });

  it('charges the organisation of a named membership key, and refuses another org named beside it', () => {
    const orgKey = { ...aliceKey, charges: chargedAccount('acme', 'alice') };
    expect(throughNamedKey(party, undefined, orgKey).account).toMatchObject({ kind: 'org', ownerId: 'acme' });
    expect(code(() => throughNamedKey(payerOf(serviceKey, named, 'other'), 'other', orgKey))).toBe('NOT_A_MEMBER');
  });
});
