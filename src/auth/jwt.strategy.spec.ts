import { UnauthorizedException } from '@nestjs/common';
import { describe, expect, it, onTestFinished, vi } from 'vitest';

import { buildAppConfig } from '../config/app-config.js';
import { type AccountSync, JwtStrategy, timeClaimsProblem } from './jwt.strategy.js';
import type { AuthUser } from './roles.js';

function strategy(env: Record<string, string> = {}) {
  const synced: Array<Pick<AuthUser, 'userId' | 'email' | 'username' | 'role'>> = [];
  const accounts: AccountSync = { syncFromToken: async (user) => void synced.push(user) };
  return { jwt: new JwtStrategy(buildAppConfig(env), accounts), synced };
}

const now = () => Math.floor(Date.now() / 1000);
const exp = now() + 60;
const DAY = 86_400;
const YEAR = 365 * DAY;

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
    const clock = now();
    // Such tokens are refused before anything could remember them…
    await expect(jwt.validate({ sub: 'a', type: 'access', exp: clock })).rejects.toThrow('Token expired');
    await expect(jwt.validate({ sub: 'a', type: 'access', exp, nbf: clock + 60 })).rejects.toThrow(
      'Token not active yet',
    );
    jwt.remember(req('active'), await jwt.validate({ sub: 'a', type: 'access', exp, nbf: clock }));
    expect(await jwt.fromCache(req('active'))).toMatchObject({ userId: 'a' });
    // …and a remembered one is dropped once its exp is reached (the clock moved, not waited for).
    jwt.remember(req('short'), await jwt.validate({ sub: 'a', type: 'access', exp: clock + 30 }));
    vi.useFakeTimers({ now: (clock + 29) * 1000, toFake: ['Date'] });
    try {
      expect(await jwt.fromCache(req('short'))).toMatchObject({ userId: 'a' });
      vi.setSystemTime((clock + 30) * 1000);
      expect(await jwt.fromCache(req('short'))).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });

  it('remembers only users that validate produced', async () => {
    const { jwt } = strategy();
    jwt.remember(req('forged'), { userId: 'x', role: 'admin', email: null, username: null, via: 'jwt' });
    expect(await jwt.fromCache(req('forged'))).toBeUndefined();
  });
});

describe('JWT_MAX_TTL_SECONDS (default 86400): a token living longer is a 401', () => {
  it.each([
    ['a 100-year token', () => ({ iat: now(), exp: now() + 100 * YEAR })],
    ['one second over a day', () => ({ iat: now(), exp: now() + DAY + 1 })],
    ['no iat, expiring in a day and a minute', () => ({ exp: now() + DAY + 60 })],
    // exp − iat is an hour, but the token would be accepted for 100 years: what is left counts too.
    ['an iat in the future hiding a far exp', () => ({ iat: now() + 100 * YEAR, exp: now() + 100 * YEAR + 3600 })],
    ['an iat that is not a number', () => ({ iat: 'yesterday', exp: now() + 60 })],
  ])('refuses %s and syncs nothing', async (_name, times) => {
    const { jwt, synced } = strategy();
    await expect(jwt.validate({ sub: 'a', type: 'access', ...times() })).rejects.toBeInstanceOf(UnauthorizedException);
    expect(synced).toEqual([]);
  });

  it.each([
    ['exactly a day (exp − iat)', () => ({ iat: now(), exp: now() + DAY })],
    ['issued an hour ago, a day in all', () => ({ iat: now() - 3600, exp: now() - 3600 + DAY })],
    ['no iat, an hour left', () => ({ exp: now() + 3600 })],
  ])('accepts %s', async (_name, times) => {
    const { jwt } = strategy();
    expect(await jwt.validate({ sub: 'a', type: 'access', ...times() })).toMatchObject({ userId: 'a' });
  });

  it('refuses an iat more than a minute in the future (clock skew leeway), accepts one within it', async () => {
    // A future iat is refused: it would make exp − iat look short for a token minted ahead. The
    // clock stands still, so a second turning between now() and the check moves nothing.
    vi.useFakeTimers({ now: now() * 1000, toFake: ['Date'] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const { jwt, synced } = strategy();
    await expect(jwt.validate({ sub: 'a', type: 'access', iat: now() + 61, exp: now() + 3600 })).rejects.toThrow(
      /issued in the future/,
    );
    await expect(jwt.validate({ sub: 'a', type: 'access', iat: now() + 3600, exp: now() + 7200 })).rejects.toThrow(
      /issued in the future/,
    );
    expect(synced).toEqual([]);
    expect(await jwt.validate({ sub: 'a', type: 'access', iat: now() + 30, exp: now() + 3600 })).toMatchObject({
      userId: 'a',
    });
  });

  it('follows the configured maximum', async () => {
    const { jwt } = strategy({ JWT_MAX_TTL_SECONDS: '600' });
    await expect(jwt.validate({ sub: 'a', type: 'access', iat: now(), exp: now() + 601 })).rejects.toThrow(
      /lifetime exceeds the maximum of 600 seconds/,
    );
    expect(await jwt.validate({ sub: 'a', type: 'access', iat: now(), exp: now() + 600 })).toMatchObject({
      userId: 'a',
    });
  });

  it('timeClaimsProblem: the one rule the signature check and the cache both apply', () => {
    const clock = 1_000_000;
    expect(timeClaimsProblem({ exp: clock + 10, iat: clock, nbf: undefined }, clock, 60)).toBeNull();
    expect(timeClaimsProblem({ exp: clock, iat: clock - 10, nbf: undefined }, clock, 60)).toBe('Token expired');
    expect(timeClaimsProblem({ exp: clock + 10, iat: clock, nbf: clock + 1 }, clock, 60)).toBe('Token not active yet');
    expect(timeClaimsProblem({ exp: clock + 61, iat: undefined, nbf: undefined }, clock, 60)).toMatch(/lifetime/);
    expect(timeClaimsProblem({ exp: clock + 61, iat: clock, nbf: undefined }, clock, 60)).toMatch(/lifetime/);
    expect(timeClaimsProblem({ exp: clock + 30, iat: clock + 20, nbf: undefined }, clock, 60)).toBeNull();
  });
});

describe('JWT_ISSUER and JWT_AUDIENCE', () => {
  const claims = { sub: 'a', type: 'access', exp };

  it('are not checked when unset', async () => {
    const { jwt } = strategy();
    expect(await jwt.validate({ ...claims, iss: 'anyone', aud: 'anything' })).toMatchObject({ userId: 'a' });
  });

  it.each([
    ['no iss', {}],
    ['another iss', { iss: 'https://evil.example' }],
    ['an iss differing in case', { iss: 'https://AUTH.example' }],
    ['an iss array', { iss: ['https://auth.example'] }],
  ])('JWT_ISSUER set: %s is a 401', async (_name, extra) => {
    const { jwt, synced } = strategy({ JWT_ISSUER: 'https://auth.example' });
    await expect(jwt.validate({ ...claims, ...extra })).rejects.toThrow('Token issuer invalid');
    expect(synced).toEqual([]);
  });

  it.each([
    ['no aud', {}],
    ['another aud', { aud: 'billing' }],
    ['an aud list without it', { aud: ['billing', 'chat'] }],
  ])('JWT_AUDIENCE set: %s is a 401', async (_name, extra) => {
    const { jwt, synced } = strategy({ JWT_AUDIENCE: 'accounting' });
    await expect(jwt.validate({ ...claims, ...extra })).rejects.toThrow('Token audience invalid');
    expect(synced).toEqual([]);
  });

  it('matching iss and aud (aud alone or in a list) are accepted', async () => {
    const { jwt } = strategy({ JWT_ISSUER: 'https://auth.example', JWT_AUDIENCE: 'accounting' });
    const iss = 'https://auth.example';
    expect(await jwt.validate({ ...claims, iss, aud: 'accounting' })).toMatchObject({ userId: 'a' });
    expect(await jwt.validate({ ...claims, iss, aud: ['chat', 'accounting'] })).toMatchObject({ userId: 'a' });
  });
});
