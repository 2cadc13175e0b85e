import { createSecretKey, type KeyObject } from 'node:crypto';

import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { isEmail } from 'class-validator';
import type { Request } from 'express';
import jsonwebtoken from 'jsonwebtoken';
import { ExtractJwt, Strategy } from 'passport-jwt';

import { BoundedMap } from '../common/bounded-map.js';
import type { AppConfig, JwtConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { type AuthUser, normaliseRole } from './roles.js';

/**
 * Creates or refreshes the caller's account from a verified token. The accounts module provides it
 * (AuthModule.forRoot), so auth, which every feature imports, imports no feature.
 */
export interface AccountSync {
  syncFromToken(user: Pick<AuthUser, 'userId' | 'email' | 'username' | 'role'>): Promise<void>;
}
export const ACCOUNT_SYNC = Symbol('ACCOUNT_SYNC');

interface AccessTokenClaims {
  sub?: unknown;
  type?: unknown;
  exp?: unknown;
  iat?: unknown;
  nbf?: unknown;
  iss?: unknown;
  aud?: unknown;
  role?: unknown;
  email?: unknown;
  username?: unknown;
}

/**
 * How far in the future a token's `iat` may lie: the clock skew between the authentication service
 * and this one (NTP keeps it well under a second; a minute covers a badly kept host).
 */
export const IAT_LEEWAY_SECONDS = 60;

/** Where the token is read from; the cache below is keyed by exactly what this returns. */
const bearerToken = ExtractJwt.fromAuthHeaderAsBearerToken();

/** Accepted tokens remembered per strategy instance (i.e. per app and secret). */
const CACHE_LIMIT = 10_000;
const CACHE_TTL_MS = 60_000;

/** What the time rules need of a token; kept with a remembered token to check it again on each use. */
interface TimeClaims {
  exp: number;
  iat: unknown;
  nbf: unknown;
}

interface CachedToken extends TimeClaims {
  user: Readonly<AuthUser>;
  until: number;
}

/**
 * Why a token's time claims refuse it at `clock` (seconds since the epoch, as jsonwebtoken counts),
 * or null. Expired when clock >= exp; not active while nbf > clock (jsonwebtoken's arithmetic). Its
 * lifetime is exp − iat, and never less than what is left of it (exp − clock): without iat, or with
 * an iat in the future, a far exp could otherwise pass JWT_MAX_TTL_SECONDS.
 */
export function timeClaimsProblem(claims: TimeClaims, clock: number, maxTtlSeconds: number): string | null {
  if (clock >= claims.exp) return 'Token expired';
  if (claims.nbf !== undefined && !(typeof claims.nbf === 'number' && claims.nbf <= clock)) {
    return 'Token not active yet';
  }
  if (claims.iat !== undefined && typeof claims.iat !== 'number') return 'Token iat invalid';
  // Issued in the future: a token minted ahead of time (or by a clock far ahead) would otherwise
  // stay valid past the lifetime it appears to have. Clocks may differ by IAT_LEEWAY_SECONDS.
  if (typeof claims.iat === 'number' && claims.iat > clock + IAT_LEEWAY_SECONDS) return 'Token issued in the future';
  const lifetime = Math.max(claims.exp - clock, typeof claims.iat === 'number' ? claims.exp - claims.iat : 0);
  if (lifetime > maxTtlSeconds) return `Token lifetime exceeds the maximum of ${maxTtlSeconds} seconds`;
  return null;
}

const audienceMatches = (aud: unknown, expected: string): boolean =>
  aud === expected || (Array.isArray(aud) && aud.includes(expected));

const optionalString = (value: unknown, max: number): string | null =>
  typeof value === 'string' && value.length > 0 ? value.slice(0, max) : null;

/**
 * The `email` claim when it is ONE valid address (at most 254 characters), else null: a list
 * (`a@x.io, b@y.io`), a display name, or a CR/LF would re-route the account's emails. Null keeps the
 * account's last valid address (the account sync never overwrites with null).
 */
const oneEmail = (value: unknown): string | null =>
  typeof value === 'string' && value.length <= 254 && isEmail(value, { allow_display_name: false }) ? value : null;

/**
 * Access tokens of the authentication service: HS256 only, `type: access`, `exp` and `sub` required,
 * a lifetime of at most JWT_MAX_TTL_SECONDS, and `iss` / `aud` as JWT_ISSUER / JWT_AUDIENCE say when
 * they are set.
 *
 * A token that passed every check is remembered (bounded LRU keyed by the full token string, for at
 * most a minute) so the next requests with it skip the HMAC and claim parsing: a token's claims
 * cannot change without changing the token, and tokens stay valid until `exp` (there is no
 * revocation). Only tokens that `validate` accepted are remembered, per strategy instance (so per app
 * and configuration: issuer and audience cannot change under a remembered token), and one is only
 * used while its time claims still pass the same rules at that moment; the account sync still runs.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  private readonly accepted = new BoundedMap<string, CachedToken>(CACHE_LIMIT);
  /** The time claims of users produced by `validate`, until the guard remembers their token. */
  private readonly claimsOf = new WeakMap<AuthUser, TimeClaims>();
  private readonly rules: Pick<JwtConfig, 'maxTtlSeconds' | 'issuer' | 'audience'>;
  private readonly key: KeyObject;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(ACCOUNT_SYNC) private readonly accounts: AccountSync,
  ) {
    // A KeyObject, not the string: jsonwebtoken otherwise tries (and fails) to parse the string as a
    // public key on every verify, which cost a fifth of the CPU of an authenticated request.
    const key = createSecretKey(Buffer.from(config.jwt.secret, 'utf8'));
    super({
      jwtFromRequest: bearerToken,
      secretOrKey: key as unknown as string,
      algorithms: ['HS256'],
      ignoreExpiration: false,
    });
    this.key = key;
    this.rules = config.jwt;
  }

  /**
   * Whether the request's bearer token carries this service's signature, whatever its claims say (an
   * expired token is a client that must refresh). A refused request whose Authorization header is not
   * so signed is no client of ours: the guard counts it as anonymous traffic. Runs only on refusals.
   */
  signedHere(req: Request): boolean {
    const token = bearerToken(req);
    if (!token) return false;
    try {
      jsonwebtoken.verify(token, this.key, { algorithms: ['HS256'], ignoreExpiration: true, ignoreNotBefore: true });
      return true;
    } catch {
      return false;
    }
  }

  async validate(claims: AccessTokenClaims): Promise<AuthUser> {
    if (claims.type !== 'access') throw new UnauthorizedException('Not an access token');
    if (typeof claims.exp !== 'number') throw new UnauthorizedException('Token has no expiry');
    if (typeof claims.sub !== 'string' || claims.sub.length === 0 || claims.sub.length > 50) {
      throw new UnauthorizedException('Token subject missing or invalid');
    }
    const time: TimeClaims = { exp: claims.exp, iat: claims.iat, nbf: claims.nbf };
    const problem = timeClaimsProblem(time, Math.floor(Date.now() / 1000), this.rules.maxTtlSeconds);
    if (problem) throw new UnauthorizedException(problem);
    if (this.rules.issuer !== null && claims.iss !== this.rules.issuer) {
      throw new UnauthorizedException('Token issuer invalid');
    }
    if (this.rules.audience !== null && !audienceMatches(claims.aud, this.rules.audience)) {
      throw new UnauthorizedException('Token audience invalid');
    }
    const user: AuthUser = {
      userId: claims.sub,
      role: normaliseRole(claims.role),
      email: oneEmail(claims.email),
      username: optionalString(claims.username, 255),
      via: 'jwt',
    };
    await this.accounts.syncFromToken(user);
    this.claimsOf.set(user, time);
    return user;
  }

  /**
   * The caller of a request whose bearer token was accepted before and is still valid now (a fresh
   * object, account synced as `validate` does), else undefined: then authenticate it normally.
   */
  async fromCache(req: Request): Promise<AuthUser | undefined> {
    const token = bearerToken(req);
    if (!token) return undefined;
    const entry = this.accepted.get(token);
    if (!entry) return undefined;
    const now = Date.now();
    if (now >= entry.until || timeClaimsProblem(entry, Math.floor(now / 1000), this.rules.maxTtlSeconds)) {
      this.accepted.delete(token);
      return undefined;
    }
    // Least recently used goes first when full.
    this.accepted.set(token, entry);
    const user: AuthUser = { ...entry.user };
    await this.accounts.syncFromToken(user);
    return user;
  }

  /** Remembers the request's token once `user` (produced by `validate` for it) was accepted. */
  remember(req: Request, user: AuthUser): void {
    const claims = this.claimsOf.get(user);
    const token = bearerToken(req);
    if (!claims || !token) return;
    this.accepted.set(token, { ...claims, user: Object.freeze({ ...user }), until: Date.now() + CACHE_TTL_MS });
  }
}
