import { ForbiddenException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';

import { DomainError } from '../common/errors/domain-error.js';
import {
  type AccountRule,
  decideOrgAccess,
  decideUserAccess,
  type OrgStanding,
  reachable,
  requireAccess,
  requireOrgForWrite,
} from './account-access.js';
import type { OrgRole } from './org-roles.js';
import type { AuthUser, Role } from './roles.js';

const jwt = (userId: string, role: Role = 'user'): AuthUser => ({
  userId,
  role,
  email: null,
  username: null,
  via: 'jwt',
});
const key = (userId: string, scopes: AuthUser['scopes'] = ['credits:read']): AuthUser => ({
  ...jwt(userId),
  via: 'api-key',
  scopes,
});

/** 200, 403 or 404, as the route would answer. */
function answer(decide: () => void): number {
  try {
    decide();
    return 200;
  } catch (error) {
    if (error instanceof ForbiddenException) return 403;
    if (error instanceof DomainError) return error.code === 'NOT_FOUND' ? 404 : 403;
    throw error;
  }
}

describe('the access rule: a user’s account', () => {
  const holderRoute: AccountRule = { user: 'holder' };
  const staffRoute: AccountRule = { user: 'staff' };

  it.each([
    ['the user themself', jwt('alice'), holderRoute, 'supervisor', 200],
    ['the user’s own API key', key('alice'), holderRoute, 'supervisor', 200],
    ['another user', jwt('bob'), holderRoute, 'supervisor', 404],
    ['another user’s API key', key('bob'), holderRoute, 'supervisor', 404],
    ['a supervisor’s API key (acts as a user)', key('sup'), holderRoute, 'supervisor', 404],
    ['a supervisor', jwt('sup', 'supervisor'), holderRoute, 'supervisor', 200],
    ['the user themself on a staff route', jwt('alice'), staffRoute, 'supervisor', 403],
    ['another user on a staff route', jwt('bob'), staffRoute, 'supervisor', 404],
    ['a supervisor on an admin route', jwt('sup', 'supervisor'), staffRoute, 'admin', 403],
    ['an admin on an admin route', jwt('ada', 'admin'), staffRoute, 'admin', 200],
    [
      'a service key where services see all',
      key('svc', ['usage:ingest']),
      { user: 'holder', services: true },
      'supervisor',
      200,
    ],
    ['a service key elsewhere', key('svc', ['usage:ingest']), holderRoute, 'supervisor', 404],
  ] as const)('%s → %i', (_who, caller, rule, staff, status) => {
    expect(answer(() => decideUserAccess(caller, 'alice', rule, staff))).toBe(status);
  });
});

describe('the access rule: an org’s account', () => {
  const standing = (role: OrgRole | null, exists = true): OrgStanding => ({ exists, role });
  const readers: AccountRule = { org: 'reader', what: 'read its money' };
  const managers: AccountRule = { org: 'manager', what: 'change its members' };
  const staffOnly: AccountRule = { org: 'staff' };
  const self: AccountRule = { org: 'reader', what: 'read its members', selfMember: true };

  it.each([
    ['an outsider', null, jwt('otto'), readers, 404],
    ['an unknown org, to an outsider', null, jwt('otto'), readers, 404, false],
    ['an unknown org, to staff', null, jwt('sup', 'supervisor'), readers, 404, false],
    ['a member below reader', 'member', jwt('mem'), readers, 403],
    ['a billing member', 'billing', jwt('bill'), readers, 200],
    ['a billing member on a managers’ route', 'billing', jwt('bill'), managers, 403],
    ['an org admin on a managers’ route', 'admin', jwt('oa'), managers, 200],
    ['an owner on a staff route', 'owner', jwt('own'), staffOnly, 403],
    ['an outsider on a staff route', null, jwt('otto'), staffOnly, 404],
    ['staff who are not members', null, jwt('sup', 'supervisor'), staffOnly, 200],
    ['a member’s API key (acts as the member)', 'billing', key('bill'), readers, 200],
    ['an outsider’s API key', null, key('otto'), readers, 404],
  ] as const)('%s → %i', (_who, role, caller, rule, status, ...unknown) => {
    const exists = (unknown as boolean[])[0] ?? true;
    expect(answer(() => decideOrgAccess(caller, standing(role, exists), rule, 'supervisor'))).toBe(status);
  });

  it('a member may read their own member view, not another’s', () => {
    expect(answer(() => decideOrgAccess(jwt('mem'), standing('member'), self, 'supervisor', true))).toBe(200);
    expect(answer(() => decideOrgAccess(jwt('mem'), standing('member'), self, 'supervisor', false))).toBe(403);
    expect(answer(() => decideOrgAccess(jwt('gone'), standing(null), self, 'supervisor', true))).toBe(404);
  });

  it('names who may in a member’s 403', () => {
    expect(() => decideOrgAccess(jwt('mem'), standing('member'), readers, 'supervisor')).toThrow(
      "Only the organisation's owners, admins and billing members may read its money",
    );
    expect(() => decideOrgAccess(jwt('own'), standing('owner'), staffOnly, 'supervisor')).toThrow(
      'Requires role supervisor',
    );
  });
});

describe('requireAccess and reachable', () => {
  const orgs = {
    orgStanding: async (orgId: string, userId: string): Promise<OrgStanding> => ({
      exists: orgId === 'acme',
      role: orgId === 'acme' && userId === 'bill' ? 'billing' : null,
    }),
    userExists: async (userId: string) => userId === 'alice',
  };
  const rule: AccountRule = { user: 'holder', org: 'reader', what: 'read its purchases' };

  it('checks every account the request names, and nothing when it names none', async () => {
    await expect(requireAccess(jwt('bill'), { orgId: 'acme' }, rule, 'user', orgs)).resolves.toBeUndefined();
    await expect(requireAccess(jwt('bill'), { orgId: 'acme', userId: 'alice' }, rule, 'user', orgs)).rejects.toThrow(
      'Give exactly one of userId and orgId',
    );
    await expect(requireAccess(jwt('otto'), { orgId: 'acme' }, rule, 'user', orgs)).rejects.toThrow('Org not found');
    await expect(requireAccess(jwt('bill'), { userId: 'alice' }, rule, 'user', orgs)).rejects.toThrow('User not found');
    await expect(requireAccess(jwt('otto'), {}, rule, 'user', orgs)).resolves.toBeUndefined();
  });

  it('staff see every account that exists: an unknown user is 404 to them too', async () => {
    const sup = jwt('sup', 'supervisor');
    await expect(requireAccess(sup, { userId: 'alice' }, rule, 'user', orgs)).resolves.toBeUndefined();
    await expect(requireAccess(sup, { userId: 'nobody' }, rule, 'user', orgs)).rejects.toThrow('User not found');
  });

  it('answers yes or no for an object found by its own id', async () => {
    const mayReach = (caller: AuthUser, named: { userId?: string; orgId?: string }) =>
      reachable(() => requireAccess(caller, named, rule, 'user', orgs));
    expect(await mayReach(jwt('bill'), { orgId: 'acme' })).toBe(true);
    expect(await mayReach(jwt('otto'), { orgId: 'acme' })).toBe(false);
    expect(await mayReach(jwt('otto'), { userId: 'alice' })).toBe(false);
    await expect(mayReach(jwt('bill'), { orgId: 'acme', userId: 'alice' })).rejects.toThrow(
      'Give exactly one of userId and orgId',
    );
  });
});

describe('a write naming an org in its body', () => {
  it('answers NOT_A_MEMBER alike for an unknown org and a non-member', () => {
    const code = (f: () => void) => {
      try {
        f();
        return 'ok';
      } catch (error) {
        return (error as DomainError).code;
      }
    };
    expect(code(() => requireOrgForWrite({ exists: false, role: null }, 'nope', 'u', true))).toBe('NOT_A_MEMBER');
    expect(code(() => requireOrgForWrite({ exists: true, role: null }, 'acme', 'u', true))).toBe('NOT_A_MEMBER');
    expect(code(() => requireOrgForWrite({ exists: false, role: null }, 'nope', 'svc', false))).toBe('NOT_A_MEMBER');
    expect(code(() => requireOrgForWrite({ exists: true, role: null }, 'acme', 'svc', false))).toBe('ok');
    expect(code(() => requireOrgForWrite({ exists: true, role: 'member' }, 'acme', 'u', true))).toBe('ok');
  });
});
