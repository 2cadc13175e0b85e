import { UnauthorizedException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { buildAppConfig } from '../../config/app-config.js';
import type { AccountsService } from '../../users/accounts.service.js';
import { JwtStrategy } from './jwt.strategy.js';
import type { AuthUser } from './roles.js';

function strategy() {
  const synced: Array<Pick<AuthUser, 'userId' | 'email' | 'username' | 'role'>> = [];
  const accounts = { syncFromToken: async (user: AuthUser) => void synced.push(user) } as unknown as AccountsService;
  return { jwt: new JwtStrategy(buildAppConfig({}), accounts), synced };
}

const exp = Math.floor(Date.now() / 1000) + 60;

describe('JwtStrategy.validate (claims after the signature check)', () => {
  it('maps the claims to the caller and syncs the account', async () => {
    const { jwt, synced } = strategy();
    const user = await jwt.validate({ sub: 'alice', type: 'access', exp, role: 'admin', email: 'a@x.io', username: 'Alice' });
    expect(user).toEqual({ userId: 'alice', role: 'admin', email: 'a@x.io', username: 'Alice', via: 'jwt' });
    expect(synced).toEqual([user]);
  });

  it('unknown or absent roles become user; missing profile claims become null', async () => {
    const { jwt } = strategy();
    expect(await jwt.validate({ sub: 'a', type: 'access', exp, role: 'root' })).toMatchObject({ role: 'user', email: null, username: null });
    expect(await jwt.validate({ sub: 'a', type: 'access', exp })).toMatchObject({ role: 'user' });
    expect(await jwt.validate({ sub: 'a', type: 'access', exp, email: 42, username: '' })).toMatchObject({ email: null, username: null });
  });

  it.each([
    ['type refresh', { sub: 'a', type: 'refresh', exp }],
    ['no type', { sub: 'a', exp }],
    ['no exp', { sub: 'a', type: 'access' }],
    ['string exp', { sub: 'a', type: 'access', exp: String(exp) }],
    ['no sub', { type: 'access', exp }],
    ['empty sub', { sub: '', type: 'access', exp }],
    ['numeric sub', { sub: 7, type: 'access', exp }],
    ['sub over 50 characters', { sub: 'x'.repeat(51), type: 'access', exp }],
  ])('rejects %s with 401 and syncs nothing', async (_name, claims) => {
    const { jwt, synced } = strategy();
    await expect(jwt.validate(claims)).rejects.toBeInstanceOf(UnauthorizedException);
    expect(synced).toEqual([]);
  });

  it('accepts a sub of exactly 50 characters', async () => {
    const { jwt } = strategy();
    expect((await jwt.validate({ sub: 'x'.repeat(50), type: 'access', exp })).userId).toHaveLength(50);
  });
});
