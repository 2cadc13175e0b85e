import { describe, expect, it } from 'vitest';

import { normaliseRole, type Role, ROLES, roleSatisfies } from './roles.js';

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
