import { type ExecutionContext, ForbiddenException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';

import { DomainError, NotFoundError } from '../common/errors/domain-error.js';
import type { MeteringTrust } from '../config/app-config.js';
import { AccessGuard } from './access.guard.js';
import {
  ACCESS_REFUSAL,
  Auth,
  AUTH_RULE,
  BODY_ACCOUNT,
  Public,
  RESOLVED_ACCOUNT,
  ROW_REACH,
} from './auth.decorator.js';
import type { AuthUser } from './roles.js';
import { CachedReflector } from './route-metadata.js';
import type { RowAccountReaders } from './row-accounts.js';

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
  @Auth('user', { scope: 'credits:read', own: 'user' }) ownUser() {}
  @Auth('user', { scope: 'credits:read', own: 'account' }) ownAccount() {}
  @Auth('user', { scope: 'credits:read', account: { user: 'holder' }, own: 'user' }) namedOrOwn() {}
  @Auth('user', { scope: 'credits:read', body: { user: 'holder', org: 'manager' } }) inBody() {}
  @Auth('supervisor', { body: { user: 'staff', org: 'staff' } }) staffInBody() {}
  @Auth('user', { scope: 'any', own: 'account' }) ownOrRefused() {}
  @Auth('user', { scope: 'any', own: 'account', ownOrNone: true }) ownOrNone() {}
  @Auth('user', { scope: 'usage:ingest', row: { of: 'usage-record', rule: { user: 'staff', org: 'staff' } } })
  onRecord() {}
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

function contextFor(handler: keyof Routes, user?: AuthUser, request: object = {}): ExecutionContext {
  return {
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => Object.assign(request, { user }) }),
  } as unknown as ExecutionContext;
}

/** These routes name no account and no caller holds a portal token (account-access.spec.ts tests the account rule). */
const NO_ORGS = {
  resolve: async () => null,
  admitPortal: () => undefined,
  erased: () => false,
  account: async () => null,
  memberOf: () => Promise.reject(new Error('no body member here')),
  portalSession: async () => null,
  forWrite: () => Promise.reject(new Error('no body write here')),
  own: () => Promise.reject(new Error('no own account here')),
};

/** No route here names a row (the row rule's own test hands its lookups). */
const NO_ROWS: RowAccountReaders = {
  'usage-record': { accountOfRow: () => Promise.reject(new Error('no row here')) },
  purchase: { accountOfRow: () => Promise.reject(new Error('no row here')) },
};

const guards: Record<MeteringTrust, AccessGuard> = {
  users: new AccessGuard(new CachedReflector(), { meteringTrust: 'users' }, NO_ORGS, NO_ROWS),
  service: new AccessGuard(new CachedReflector(), { meteringTrust: 'service' }, NO_ORGS, NO_ROWS),
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

  it("resolves the caller's own account for a route acting on it, unless the request names one", async () => {
    const asked: { how: string; orgId?: string }[] = [];
    const access = {
      admitPortal: () => undefined,
      erased: () => false,
      account: async () => null,
      memberOf: () => Promise.reject(new Error('no body member here')),
      portalSession: async () => null,
      forWrite: () => Promise.reject(new Error('no body write here')),
      resolve: async (_caller: AuthUser, named: { userId?: string }) => {
        asked.push({ how: `resolve ${named.userId}` });
        return { accountId: '7', kind: 'user' as const, ownerId: named.userId!, memberId: null, memberRole: null };
      },
      own: async (caller: AuthUser) => {
        asked.push({ how: 'own', orgId: caller.orgId });
        return { accountId: '3', kind: 'user' as const, ownerId: caller.userId, memberId: null, memberRole: null };
      },
    };
    const guard = new AccessGuard(new CachedReflector(), { meteringTrust: 'users' }, access, NO_ROWS);
    const orgKey = { ...apiKey(['credits:read']), orgId: 'o1' };
    const resolvedFor = async (handler: keyof Routes, user: AuthUser, query: Record<string, string> = {}) => {
      const request: Record<symbol, unknown> & { query: Record<string, string> } = { query };
      expect(await guard.canActivate(contextFor(handler, user, request))).toBe(true);
      return request[RESOLVED_ACCOUNT];
    };

    expect(await resolvedFor('ownUser', orgKey)).toMatchObject({ accountId: '3' });
    expect(await resolvedFor('ownAccount', orgKey)).toMatchObject({ accountId: '3' });
    expect(await resolvedFor('namedOrOwn', jwtUser('supervisor'), { userId: 'u2' })).toMatchObject({ accountId: '7' });
    // `user`: the key's user's own account, not its org's; `account`: the caller's own as the key has it.
    expect(asked).toEqual([{ how: 'own', orgId: undefined }, { how: 'own', orgId: 'o1' }, { how: 'resolve u2' }]);
    // A route that acts on no own account resolves nothing.
    expect(await resolvedFor('creditsRead', jwtUser('user'))).toBeUndefined();
    expect(asked).toHaveLength(3);
  });

  it("resolves the account a body names under the route's body rule, keeping its refusal for the service", async () => {
    const asked: { userId?: string; orgId?: string; role: string }[] = [];
    const refusal = new ForbiddenException('Only the organisation’s owners and admins may');
    const access = {
      admitPortal: () => undefined,
      erased: () => false,
      account: async () => null,
      memberOf: () => Promise.reject(new Error('no body member here')),
      portalSession: async () => null,
      forWrite: () => Promise.reject(new Error('no body write here')),
      own: () => Promise.reject(new Error('no own account here')),
      resolve: async (_caller: AuthUser, named: { userId?: string; orgId?: string }, _rule: unknown, role?: string) => {
        asked.push({ ...named, role: role! });
        if (named.orgId === 'o2') throw refusal;
        return named.userId === undefined && named.orgId === undefined
          ? null
          : { accountId: '9', kind: 'user' as const, ownerId: named.userId!, memberId: null, memberRole: null };
      },
    };
    const guard = new AccessGuard(new CachedReflector(), { meteringTrust: 'users' }, access, NO_ROWS);
    const found = async (handler: keyof Routes, user: AuthUser, body: unknown) => {
      const request: Record<symbol, unknown> & { body: unknown } = { body };
      expect(await guard.canActivate(contextFor(handler, user, request))).toBe(true);
      return request[BODY_ACCOUNT];
    };

    expect(await found('inBody', jwtUser('user'), { userId: 'u2', credits: 5 })).toEqual({
      account: expect.objectContaining({ accountId: '9', ownerId: 'u2' }),
    });
    // A refusal is kept, not thrown: the service answers it after the body's own checks.
    expect(await found('inBody', apiKey(['credits:read']), { orgId: 'o2' })).toEqual({ refusal });
    // A field that is not a string names nothing (the validation pipe answers it); no body, nothing named.
    expect(await found('inBody', jwtUser('user'), { userId: 7, orgId: ['o2'] })).toEqual({ account: null });
    expect(await found('inBody', jwtUser('user'), undefined)).toEqual({ account: null });
    expect(await found('staffInBody', jwtUser('admin'), { orgId: 'o1' })).toBeDefined();
    expect(asked).toEqual([
      { userId: 'u2', orgId: undefined, role: 'user' },
      { userId: undefined, orgId: 'o2', role: 'user' },
      { userId: undefined, orgId: undefined, role: 'user' },
      { userId: undefined, orgId: undefined, role: 'user' },
      { userId: undefined, orgId: 'o1', role: 'supervisor' },
    ]);
    // The route's role first: a user on a supervisor's route is refused before anything is resolved.
    expect(() => guard.canActivate(contextFor('staffInBody', jwtUser('user'), { body: { orgId: 'o1' } }))).toThrow(
      ForbiddenException,
    );
    // A route without a body rule reads no body.
    expect(await found('creditsRead', jwtUser('user'), { userId: 'u2' })).toBeUndefined();
    expect(asked).toHaveLength(5);
  });

  it('answers no own account as none on an ownOrNone route, and as the 404 elsewhere', async () => {
    const missing = new NotFoundError('User');
    const access = {
      admitPortal: () => undefined,
      erased: () => false,
      account: async () => null,
      memberOf: () => Promise.reject(new Error('no body member here')),
      portalSession: async () => null,
      forWrite: () => Promise.reject(new Error('no body write here')),
      resolve: async () => null,
      own: () => Promise.reject(missing),
    };
    const guard = new AccessGuard(new CachedReflector(), { meteringTrust: 'users' }, access, NO_ROWS);
    const left = async (handler: keyof Routes) => {
      const request: Record<symbol, unknown> = {};
      expect(await guard.canActivate(contextFor(handler, jwtUser('user'), request))).toBe(true);
      return [request[RESOLVED_ACCOUNT], request[ACCESS_REFUSAL]];
    };
    expect(await left('ownOrRefused')).toEqual([undefined, missing]);
    expect(await left('ownOrNone')).toEqual([undefined, undefined]);
  });

  it('reads the account of the row the path names through its owner, and keeps the refusal of its rule', async () => {
    const refusal = new NotFoundError('Org');
    const asked: unknown[] = [];
    const looked: string[] = [];
    const access = {
      ...NO_ORGS,
      resolve: async (_caller: AuthUser, named: { userId?: string; orgId?: string }, rule: unknown, role?: string) => {
        asked.push({ named, rule, role });
        if (named.orgId === 'o2') throw refusal;
        return { accountId: '9', kind: 'user' as const, ownerId: named.userId!, memberId: null, memberRole: null };
      },
    };
    const rows: RowAccountReaders = {
      ...NO_ROWS,
      'usage-record': {
        accountOfRow: async (id) => {
          looked.push(id);
          if (id.endsWith('1')) return { kind: 'user', ownerId: 'u2' };
          if (id.endsWith('2')) return { kind: 'org', ownerId: 'o2' };
          return null;
        },
      },
    };
    const guard = new AccessGuard(new CachedReflector(), { meteringTrust: 'users' }, access, rows);
    const reached = async (id: unknown) => {
      const request: Record<symbol, unknown> & { params: object } = { params: { id } };
      expect(await guard.canActivate(contextFor('onRecord', jwtUser('supervisor'), request))).toBe(true);
      return request[ROW_REACH];
    };
    const uuid = (last: string) => `0193a8f0-1b2c-7d3e-8f4a-5b6c7d8e9f0${last}`;

    expect(await reached(uuid('1'))).toEqual({ value: true });
    // A refusal is kept, not thrown: the service answers it once it has found the row.
    expect(await reached(uuid('2'))).toEqual({ refusal });
    // No such row, and an id that names none (no lookup): false, the service's own 404.
    expect(await reached(uuid('3'))).toEqual({ value: false });
    expect(await reached('not-a-uuid')).toEqual({ value: false });
    expect(looked).toEqual([uuid('1'), uuid('2'), uuid('3')]);
    expect(asked).toEqual([
      { named: { userId: 'u2' }, rule: { user: 'staff', org: 'staff' }, role: 'user' },
      { named: { orgId: 'o2' }, rule: { user: 'staff', org: 'staff' }, role: 'user' },
    ]);
    // A route without a row rule reads no row.
    const request: Record<symbol, unknown> & { params: object } = { params: { id: uuid('1') } };
    expect(await guard.canActivate(contextFor('creditsRead', jwtUser('user'), request))).toBe(true);
    expect(request[ROW_REACH]).toBeUndefined();
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
