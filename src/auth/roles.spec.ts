import { describe, expect, it } from 'vitest';

import { endUserKeyScopes, normaliseRole, type Role, ROLES, roleSatisfies } from './roles.js';

describe('roles', () => {
  it('normaliseRole keeps the three known roles', () => {
    for (const role of ROLES) expect(normaliseRole(role)).toBe(role);
  });

  it.each([undefined, null, '', 'Admin', 'ADMIN', 'root', 'superuser', ' admin', 1, ['admin'], { role: 'admin' }])(
    'normaliseRole(%j) falls back to user',
    (value) => {
      expect(normaliseRole(value)).toBe('user');
    },
  );

  it('roleSatisfies follows user < supervisor < admin', () => {
    const expected: Record<Role, Role[]> = {
      user: ['user'],
      supervisor: ['user', 'supervisor'],
      admin: ['user', 'supervisor', 'admin'],
    };
    for (const actual of ROLES) {
      for (const required of ROLES) {
        expect(roleSatisfies(actual, required), `${actual} vs ${required}`).toBe(expected[actual].includes(required));
      }
    }
  });
});

describe('endUserKeyScopes: what a key made in the portal can use', () => {
  it('reads always; usage and session writes only where users meter themselves; gateway when it is on', () => {
    expect(endUserKeyScopes('service', false)).toEqual(['credits:read', 'usage:read', 'sessions:read', 'pricing:read']);
    expect(endUserKeyScopes('service', true)).toEqual([
      'credits:read',
      'usage:read',
      'sessions:read',
      'pricing:read',
      'gateway',
    ]);
    expect(endUserKeyScopes('users', true)).toEqual([
      'credits:read',
      'usage:read',
      'usage:write',
      'sessions:read',
      'sessions:write',
      'pricing:read',
      'gateway',
    ]);
    expect(endUserKeyScopes('users', false)).not.toContain('usage:ingest');
  });
});
