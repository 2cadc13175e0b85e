import { ExecutionContext, HttpException, HttpStatus, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { InjectThrottlerStorage, type ThrottlerStorage } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/app-config.js';
import { AUTH_RULE, type AuthRule } from './auth.decorator.js';

/**
 * Passport strategies tried in order; the first that authenticates wins. The API-key strategy
 * `fail()`s when there is no X-API-Key header (so the JWT is tried) and errors with a 401 when there
 * is one that is not valid (a bad key is refused even next to a good token).
 */
export const AUTH_STRATEGIES = ['api-key', 'jwt'];

/**
 * Global authentication: every route needs a valid JWT or API key unless it is `@Public()`.
 * Failed attempts are counted per client address and throttled much more strictly than normal
 * traffic (credential guessing).
 */
@Injectable()
export class AuthenticationGuard extends AuthGuard(AUTH_STRATEGIES) {
  constructor(
    private readonly reflector: Reflector,
    @InjectThrottlerStorage() private readonly throttlerStorage: ThrottlerStorage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.getAllAndOverride<AuthRule | undefined>(AUTH_RULE, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (rule?.public) return true;
    return this.authenticate(context);
  }

  /** Runs the strategies; a 401 counts towards the per-address failure limit. */
  protected async authenticate(context: ExecutionContext): Promise<boolean> {
    try {
      return (await super.canActivate(context)) as boolean;
    } catch (error) {
      if (error instanceof UnauthorizedException) await this.countFailure(context);
      throw error;
    }
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
