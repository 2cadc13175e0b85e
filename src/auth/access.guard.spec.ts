import { type ExecutionContext, ForbiddenException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';

import { DomainError } from '../common/errors/domain-error.js';
import type { MeteringTrust } from '../config/app-config.js';
import { AccessGuard } from './access.guard.js';
import { Auth, AUTH_RULE, Public } from './auth.decorator.js';
import type { AuthUser } from './roles.js';
import { CachedReflector } from './route-metadata.js';

class Routes {
  @Public() open() {}
  @Auth() anyUser() {}
  @Auth('user', { scope: 'any' }) anyKey() {}
  @Auth('user', { scope: 'credits:read' }) creditsRead() {}
  @Auth('supervisor') supervisor() {}
  @Auth('admin') admin() {}
  // Even if someone asks for a scope on a supervisor route, keys stay out.
  @Auth('supervisor', { scope: 'credits:read' }) supervisorWithScope() {}
  @Auth('user', { scope: 'usage:write', meters: true }) meter() {}
  undecorated() {}
}

const jwtUser = (role: AuthUser['role']): AuthUser => ({ userId: 'u1', role, email: null, username: null, via: 'jwt' });
const apiKey = (scopes: AuthUser['scopes']): AuthUser => ({
  userId: 'u1',
  role: 'user',
  email: null,
  username: null,
  via: 'api-key',
  scopes,
  apiKeyId: 'k1',
});

function contextFor(handler: keyof Routes, user?: AuthUser): ExecutionContext {
  return {
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => ({ user }) }),
  } as unknown as ExecutionContext;
}

/** These routes name no account and no caller holds a portal token (account-access.spec.ts tests the account rule). */
const NO_ORGS = { resolve: async () => null, admitPortal: () => undefined };

const guards: Record<MeteringTrust, AccessGuard> = {
  users: new AccessGuard(new CachedReflector(), { meteringTrust: 'users' }, NO_ORGS),
  service: new AccessGuard(new CachedReflector(), { meteringTrust: 'service' }, NO_ORGS),
};
const allowed = (handler: keyof Routes, user?: AuthUser, trust: MeteringTrust = 'users') => {
  try {
    return guards[trust].canActivate(contextFor(handler, user));
  } catch (error) {
    if (error instanceof DomainError) {
      expect(error.code).toBe('METERING_REQUIRES_SERVICE');
      return false;
    }
    expect(error).toBeInstanceOf(ForbiddenException);
    return false;
  }
};

describe('AccessGuard', () => {
  it('lets anyone through a public route', () => {
    expect(allowed('open')).toBe(true);
  });

  it('refuses a protected route without an authenticated caller', () => {
    expect(allowed('anyUser')).toBe(false);
    expect(allowed('undecorated')).toBe(false);
  });

  it('applies the role hierarchy to tokens', () => {
    const table: Array<[keyof Routes, AuthUser['role'], boolean]> = [
      ['anyUser', 'user', true],
      ['supervisor', 'user', false],
      ['supervisor', 'supervisor', true],
      ['supervisor', 'admin', true],
      ['admin', 'supervisor', false],
      ['admin', 'admin', true],
      ['undecorated', 'user', true],
    ];
    for (const [handler, role, expected] of table)
      expect(allowed(handler, jwtUser(role)), `${handler} as ${role}`).toBe(expected);
  });

  it('refuses API keys on routes without a scope, above role user, or without the scope', () => {
    const key = apiKey(['credits:read']);
    expect(allowed('anyUser', key)).toBe(false);
    expect(allowed('undecorated', key)).toBe(false);
    expect(allowed('supervisor', key)).toBe(false);
    expect(allowed('supervisorWithScope', key)).toBe(false);
    expect(allowed('admin', key)).toBe(false);
    expect(allowed('creditsRead', apiKey(['usage:read']))).toBe(false);
    expect(allowed('creditsRead', apiKey([]))).toBe(false);
    expect(allowed('creditsRead', apiKey(undefined))).toBe(false);
  });

  it('lets API keys with the scope (or any key on scope "any") through', () => {
    expect(allowed('creditsRead', apiKey(['credits:read']))).toBe(true);
    expect(allowed('anyKey', apiKey([]))).toBe(true);
  });

  it('lets only service principals meter under METERING_TRUST=service', () => {
    const table: Array<[string, AuthUser, boolean, boolean]> = [
      // caller, allowed under service, allowed under users
      ['user token', jwtUser('user'), false, true],
      ['supervisor token', jwtUser('supervisor'), false, true],
      ['admin token', jwtUser('admin'), true, true],
      ['user key with usage:write', apiKey(['usage:write']), false, true],
      ['service key (usage:ingest only)', apiKey(['usage:ingest']), true, true],
      ['key without either scope', apiKey(['credits:read']), false, false],
    ];
    for (const [who, user, service, users] of table) {
      expect(allowed('meter', user, 'service'), `${who} under service`).toBe(service);
      expect(allowed('meter', user, 'users'), `${who} under users`).toBe(users);
    }
  });

  it('Auth() records the rule the guard reads', () => {
    const reflector = new CachedReflector();
    expect(reflector.get(AUTH_RULE, Routes.prototype.supervisorWithScope)).toEqual({
      role: 'supervisor',
      apiKeyScope: undefined,
    });
    expect(reflector.get(AUTH_RULE, Routes.prototype.creditsRead)).toEqual({
      role: 'user',
      apiKeyScope: 'credits:read',
    });
    expect(reflector.get(AUTH_RULE, Routes.prototype.open)).toMatchObject({ public: true });
  });
});
