import { UnauthorizedException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';

import { buildAppConfig } from '../config/app-config.js';
import type { AccountsService } from '../users/accounts.service.js';
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
    const user = await jwt.validate({
      sub: 'alice',
      type: 'access',
      exp,
      role: 'admin',
      email: 'a@x.io',
      username: 'Alice',
    });
    expect(user).toEqual({ userId: 'alice', role: 'admin', email: 'a@x.io', username: 'Alice', via: 'jwt' });
    expect(synced).toEqual([user]);
  });

  it('unknown or absent roles become user; missing profile claims become null', async () => {
    const { jwt } = strategy();
    expect(await jwt.validate({ sub: 'a', type: 'access', exp, role: 'root' })).toMatchObject({
      role: 'user',
      email: null,
      username: null,
    });
    expect(await jwt.validate({ sub: 'a', type: 'access', exp })).toMatchObject({ role: 'user' });
    expect(await jwt.validate({ sub: 'a', type: 'access', exp, email: 42, username: '' })).toMatchObject({
      email: null,
      username: null,
    });
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

describe('JwtStrategy accepted-token cache', () => {
  const req = (t: string) => ({ headers: { authorization: `Bearer ${t}` } }) as unknown as import('express').Request;

  it('gives a fresh copy of the remembered caller for the same token only, and still syncs the account', async () => {
    const { jwt, synced } = strategy();
    const user = await jwt.validate({ sub: 'alice', type: 'access', exp, role: 'admin' });
    expect(await jwt.fromCache(req('tok-1'))).toBeUndefined();
    jwt.remember(req('tok-1'), user);
    const hit = await jwt.fromCache(req('tok-1'));
    expect(hit).toEqual(user);
    expect(hit).not.toBe(user);
    hit!.role = 'user';
    expect((await jwt.fromCache(req('tok-1')))!.role).toBe('admin');
    expect(synced).toHaveLength(3);
    expect(await jwt.fromCache(req('tok-2'))).toBeUndefined();
    expect(await jwt.fromCache({ headers: {} } as unknown as import('express').Request)).toBeUndefined();
  });

  it('never serves a token at or after its exp (jsonwebtoken arithmetic), nor one not yet active', async () => {
    const { jwt } = strategy();
    const now = Math.floor(Date.now() / 1000);
    jwt.remember(req('expired'), await jwt.validate({ sub: 'a', type: 'access', exp: now }));
    expect(await jwt.fromCache(req('expired'))).toBeUndefined();
    jwt.remember(req('early'), await jwt.validate({ sub: 'a', type: 'access', exp, nbf: now + 60 } as never));
    expect(await jwt.fromCache(req('early'))).toBeUndefined();
    jwt.remember(req('active'), await jwt.validate({ sub: 'a', type: 'access', exp, nbf: now } as never));
    expect(await jwt.fromCache(req('active'))).toMatchObject({ userId: 'a' });
  });

  it('remembers only users that validate produced', async () => {
    const { jwt } = strategy();
    jwt.remember(req('forged'), { userId: 'x', role: 'admin', email: null, username: null, via: 'jwt' });
    expect(await jwt.fromCache(req('forged'))).toBeUndefined();
  });
});
