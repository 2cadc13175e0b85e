import {
  ExecutionContext,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  type Type,
  UnauthorizedException,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { Request, Response } from 'express';
import passport, { type Strategy } from 'passport';

import { AnonymousRequests, presentsCredential } from '../throttling/anonymous-requests.js';
import { CredentialAttempts, refuseBlocked } from '../throttling/credential-attempts.js';
import { AUTH_RULE, type AuthRule } from './auth.decorator.js';
import { JwtStrategy } from './jwt.strategy.js';
import { isServicePrincipal } from './metering.js';
import type { AuthUser } from './roles.js';
import { CachedReflector } from './route-metadata.js';

/**
 * Passport strategies tried in order; the first that authenticates wins. The API-key strategy
 * `fail()`s when there is no X-API-Key header (so the JWT is tried) and errors with a 401 when there
 * is one that is not valid (a bad key is refused even next to a good token). The portal strategy
 * (src/portal/) takes only bearers shaped as portal tokens (`acp_…`) and passes every other one on.
 */
export const AUTH_STRATEGIES = ['api-key', 'portal', 'jwt'];

/** What the API-key strategy (src/api-keys/, above this module) offers the guard's fast path. */
interface KeyStrategy {
  validate(req: Request): Promise<AuthUser | null>;
}

/** The metadata `@SkipThrottle()` sets for the default throttler (@nestjs/throttler's THROTTLER_SKIP + name). */
const SKIP_THROTTLE = 'THROTTLER:SKIPdefault';

/**
 * Global authentication: every route needs a valid JWT or API key unless it is `@Public()`.
 * A request with an API key is an attempt at a secret (CredentialAttempts): refused with a 429 while
 * its address is blocked for guessing, before the key is looked at, and counted when the key is
 * wrong. A failed JWT is always a 401, never a 429: clients refresh their token on 401, and behind the
 * platform's gateway every user shares one address, so counting expired tokens would let one user's
 * stale tokens block everyone's refresh. Guessing an HS256 secret online is hopeless anyway.
 */
@Injectable()
export class AuthenticationGuard extends AuthGuard(AUTH_STRATEGIES) {
  constructor(
    private readonly reflector: CachedReflector,
    protected readonly attempts: CredentialAttempts,
  ) {
    super();
  }

  // A property, so subclasses keep their constructors.
  @Inject(ModuleRef) private readonly moduleRef: ModuleRef;
  @Inject(AnonymousRequests) private readonly anonymous: AnonymousRequests;
  private strategies?: Strategy[];
  private jwt?: JwtStrategy;

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.getAllAndOverride<AuthRule | undefined>(AUTH_RULE, [
      context.getHandler(),
      context.getClass(),
    ]);
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    if (!presentsCredential(req) && !this.skipsThrottling(context)) {
      await this.anonymous.admit(req, http.getResponse<Response>());
    }
    if (rule?.public) return true;
    return this.authenticate(context);
  }

  /**
   * A refused Authorization header that this service did not sign (garbage, another scheme, another
   * key) is counted in its address's bucket of requests without credentials: otherwise any made-up
   * header was a way round ANONYMOUS_THROTTLE_LIMIT. Once the address is over it, such a header that
   * is not even a bearer token is a 429; a bearer token stays a 401 (a failed JWT always is: clients
   * refresh their token on it).
   */
  private async countUnverifiable(req: Request, res: Response): Promise<void> {
    const header = req.headers.authorization;
    if (header === undefined || header === '' || this.jwtStrategy()?.signedHere(req)) return;
    const blockedFor = await this.anonymous.count(req);
    if (blockedFor > 0 && !/^bearer\s/i.test(header)) {
      res.setHeader('Retry-After', String(blockedFor));
      throw new HttpException('Too many requests without credentials from this address', HttpStatus.TOO_MANY_REQUESTS);
    }
  }

  private skipsThrottling(context: ExecutionContext): boolean {
    return (
      this.reflector.getAllAndOverride<boolean | undefined>(SKIP_THROTTLE, [
        context.getHandler(),
        context.getClass(),
      ]) === true
    );
  }

  /**
   * Runs the strategies; a presented API key is an attempt at a secret (counted when wrong). While the
   * caller's address is blocked for guessing, every key is refused with a 429 — except a valid service
   * key: the gateway that meters every user shares its address with whoever guesses from behind it,
   * and must not be locked out by them (docs/operations.md "Rate limits: who counts against what"). A
   * service key has 256 bits of entropy: letting it through tells a guesser nothing it could use.
   */
  protected async authenticate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    // An empty header is no key (ApiKeyStrategy passes on to the JWT).
    const keyPresented = (req.headers['x-api-key'] ?? '') !== '';
    const blockedFor = keyPresented ? await this.attempts.blockedFor(req) : 0;
    try {
      await this.runStrategies(context);
    } catch (error) {
      if (error instanceof UnauthorizedException && keyPresented) await this.attempts.failed(req);
      if (blockedFor > 0 && error instanceof HttpException) refuseBlocked(res, blockedFor);
      if (error instanceof UnauthorizedException && !keyPresented) await this.countUnverifiable(req, res);
      throw error;
    }
    const user = req.user as AuthUser | undefined;
    if (blockedFor > 0 && !(user?.via === 'api-key' && isServicePrincipal(user))) {
      req.user = undefined;
      refuseBlocked(res, blockedFor);
    }
    return true;
  }

  /**
   * What AuthGuard.canActivate does, but with this application's own strategy instances: passport
   * keeps ONE registry per process, so when several apps live in one process (tests) the last app
   * created would otherwise authenticate for all of them, with its config and its (maybe closed)
   * database. Each request gets a fresh object on top of the instance, as passport does by name.
   */
  private async runStrategies(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<Omit<Request, 'user' | 'authInfo'> & { user?: unknown; authInfo?: unknown }>();
    // Fast path: a presented API key decides alone (its strategy answers the caller or a 401 and
    // never passes on), so it is checked without passport's machinery around it.
    const key = req.headers['x-api-key'];
    if (key !== undefined && key !== '') {
      req.authInfo = undefined;
      req.user = this.handleRequest(null, await this.keyStrategy().validate(req as Request), undefined);
      return true;
    }
    // Fast path: no API key (its strategy would fail() and pass on to the JWT) and a bearer token
    // that this app's JWT strategy accepted before and that is still valid.
    const jwt = key === undefined ? this.jwtStrategy() : undefined;
    if (jwt) {
      const cached = await jwt.fromCache(req as Request);
      if (cached) {
        req.authInfo = undefined;
        req.user = cached;
        return true;
      }
    }
    const res = http.getResponse<Response>();
    const strategies = this.ownStrategies().map((strategy) => Object.create(strategy) as Strategy);
    const user = await new Promise((resolve, reject) => {
      // passport accepts strategy instances as well as names (its typings only admit names).
      passport.authenticate(
        strategies as unknown as string[],
        { session: false },
        (err: unknown, found: unknown, info: unknown) => {
          try {
            req.authInfo = info;
            resolve(this.handleRequest(err, found, info));
          } catch (error) {
            reject(error);
          }
        },
      )(req as Request, res, (err?: unknown) => (err ? reject(err) : resolve(undefined)));
    });
    req.user = user;
    if (jwt && (user as AuthUser).via === 'jwt') jwt.remember(req as Request, user as AuthUser);
    return true;
  }

  /** The API key's strategy: its own `validate`, as passport would call it. */
  private keyStrategy(): KeyStrategy {
    return this.ownStrategies()[AUTH_STRATEGIES.indexOf('api-key')] as unknown as KeyStrategy;
  }

  private jwtStrategy(): JwtStrategy | undefined {
    this.jwt ??= this.ownStrategies().find((s): s is JwtStrategy => s instanceof JwtStrategy);
    return this.jwt;
  }

  private ownStrategies(): Strategy[] {
    this.strategies ??= AUTH_STRATEGIES.map((name) => {
      const registered = (passport as unknown as { _strategy(n: string): Strategy | undefined })._strategy(name);
      if (!registered) throw new Error(`Passport strategy "${name}" is not registered`);
      return this.moduleRef.get(registered.constructor as Type<Strategy>, { strict: false });
    });
    return this.strategies;
  }

  override handleRequest<TUser>(err: unknown, user: TUser, info: unknown): TUser {
    // Anything but a credential problem (e.g. the database is down) is not a 401.
    if (err && !(err instanceof HttpException)) throw err;
    if (err || !user) {
      // With several strategies, passport reports one `info` per strategy that failed.
      const infoError = (Array.isArray(info) ? info : [info]).find((i): i is Error => i instanceof Error);
      const reason = err instanceof Error ? err.message : infoError?.message;
      throw new UnauthorizedException(reason && !/No auth token/i.test(reason) ? reason : 'Authentication required');
    }
    return user;
  }
}
