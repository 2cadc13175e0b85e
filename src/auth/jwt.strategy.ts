import { createSecretKey } from 'node:crypto';

import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { ExtractJwt, Strategy } from 'passport-jwt';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { AccountsService } from '../users/accounts.service.js';
import { type AuthUser, normaliseRole } from './roles.js';

interface AccessTokenClaims {
  sub?: unknown;
  type?: unknown;
  exp?: unknown;
  role?: unknown;
  email?: unknown;
  username?: unknown;
}

/** Where the token is read from; the cache below is keyed by exactly what this returns. */
const bearerToken = ExtractJwt.fromAuthHeaderAsBearerToken();

/** Accepted tokens remembered per strategy instance (i.e. per app and secret). */
const CACHE_LIMIT = 10_000;
const CACHE_TTL_MS = 60_000;

interface CachedToken {
  user: Readonly<AuthUser>;
  exp: number;
  nbf: unknown;
  until: number;
}

const optionalString = (value: unknown, max: number): string | null =>
  typeof value === 'string' && value.length > 0 ? value.slice(0, max) : null;

/**
 * Access tokens of the authentication service: HS256 only, `type: access`, `exp` and `sub` required.
 *
 * A token that passed every check is remembered (bounded LRU keyed by the full token string, for at
 * most a minute) so the next requests with it skip the HMAC and claim parsing: a token's claims
 * cannot change without changing the token, and tokens stay valid until `exp` (there is no
 * revocation). A remembered token is only used while jsonwebtoken would still accept it at that
 * moment (`exp` and `nbf` are re-checked with its exact arithmetic); the account sync still runs.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  private readonly accepted = new Map<string, CachedToken>();
  /** The time claims of users produced by `validate`, until the guard remembers their token. */
  private readonly claimsOf = new WeakMap<AuthUser, { exp: number; nbf: unknown }>();

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly accounts: AccountsService,
  ) {
    super({
      jwtFromRequest: bearerToken,
      // A KeyObject, not the string: jsonwebtoken otherwise tries (and fails) to parse the string as a
      // public key on every verify, which cost a fifth of the CPU of an authenticated request.
      secretOrKey: createSecretKey(Buffer.from(config.jwt.secret, 'utf8')) as unknown as string,
      algorithms: ['HS256'],
      ignoreExpiration: false,
    });
  }

  async validate(claims: AccessTokenClaims): Promise<AuthUser> {
    if (claims.type !== 'access') throw new UnauthorizedException('Not an access token');
    if (typeof claims.exp !== 'number') throw new UnauthorizedException('Token has no expiry');
    if (typeof claims.sub !== 'string' || claims.sub.length === 0 || claims.sub.length > 50) {
      throw new UnauthorizedException('Token subject missing or invalid');
    }
    const user: AuthUser = {
      userId: claims.sub,
      role: normaliseRole(claims.role),
      email: optionalString(claims.email, 255),
      username: optionalString(claims.username, 255),
      via: 'jwt',
    };
    await this.accounts.syncFromToken(user);
    this.claimsOf.set(user, { exp: claims.exp, nbf: (claims as { nbf?: unknown }).nbf });
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
    // jsonwebtoken: expired when floor(now/1000) >= exp; not active while nbf > floor(now/1000).
    const clock = Math.floor(now / 1000);
    if (
      now >= entry.until ||
      clock >= entry.exp ||
      (entry.nbf !== undefined && !(typeof entry.nbf === 'number' && entry.nbf <= clock))
    ) {
      this.accepted.delete(token);
      return undefined;
    }
    // Least recently used goes first when full.
    this.accepted.delete(token);
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
    if (this.accepted.size >= CACHE_LIMIT) this.accepted.delete(this.accepted.keys().next().value as string);
    this.accepted.set(token, {
      user: Object.freeze({ ...user }),
      exp: claims.exp,
      nbf: claims.nbf,
      until: Date.now() + CACHE_TTL_MS,
    });
  }
}
