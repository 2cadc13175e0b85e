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
import { InjectThrottlerStorage, type ThrottlerStorage } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import passport, { type Strategy } from 'passport';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { AUTH_RULE, type AuthRule } from './auth.decorator.js';
import { JwtStrategy } from './jwt.strategy.js';
import type { AuthUser } from './roles.js';
import { CachedReflector } from './route-metadata.js';

/**
 * Passport strategies tried in order; the first that authenticates wins. The API-key strategy
 * `fail()`s when there is no X-API-Key header (so the JWT is tried) and errors with a 401 when there
 * is one that is not valid (a bad key is refused even next to a good token).
 */
export const AUTH_STRATEGIES = ['api-key', 'jwt'];

/**
 * Global authentication: every route needs a valid JWT or API key unless it is `@Public()`.
 * Failed API-key (and internal-key) attempts are counted per client address and throttled much more
 * strictly than normal traffic (guessing). A failed JWT is always a 401, never a 429: clients refresh
 * their token on 401, and behind the platform's gateway every user shares one address, so counting
 * expired tokens would let one user's stale tokens block everyone's refresh. Guessing an HS256 secret
 * online is hopeless anyway.
 */
@Injectable()
export class AuthenticationGuard extends AuthGuard(AUTH_STRATEGIES) {
  constructor(
    private readonly reflector: CachedReflector,
    @InjectThrottlerStorage() private readonly throttlerStorage: ThrottlerStorage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  // A property, so subclasses keep their constructors.
  @Inject(ModuleRef) private readonly moduleRef: ModuleRef;
  private strategies?: Strategy[];
  private jwt?: JwtStrategy;

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.getAllAndOverride<AuthRule | undefined>(AUTH_RULE, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (rule?.public) return true;
    return this.authenticate(context);
  }

  /** Runs the strategies; a 401 for a presented API key counts towards the per-address failure limit. */
  protected async authenticate(context: ExecutionContext): Promise<boolean> {
    try {
      return await this.runStrategies(context);
    } catch (error) {
      const req = context.switchToHttp().getRequest<Request>();
      if (error instanceof UnauthorizedException && req.headers['x-api-key'] !== undefined)
        await this.countFailure(context);
      throw error;
    }
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
    // Fast path: no API key (its strategy would fail() and pass on to the JWT) and a bearer token
    // that this app's JWT strategy accepted before and that is still valid.
    const jwt = req.headers['x-api-key'] === undefined ? this.jwtStrategy() : undefined;
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

  protected async countFailure(context: ExecutionContext): Promise<void> {
    const req = context.switchToHttp().getRequest<Request>();
    const ttlMs = this.config.throttle.ttlSeconds * 1000;
    const limit = this.config.throttle.authFailureLimit;
    const record = await this.throttlerStorage.increment(`auth-failure:${req.ip}`, ttlMs, limit, ttlMs, 'auth-failure');
    if (record.isBlocked) {
      context.switchToHttp().getResponse<Response>().setHeader('Retry-After', String(record.timeToBlockExpire));
      throw new HttpException('Too many failed authentication attempts', HttpStatus.TOO_MANY_REQUESTS);
    }
  }
}
