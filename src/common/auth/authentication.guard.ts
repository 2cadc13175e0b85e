import { ExecutionContext, HttpException, HttpStatus, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { InjectThrottlerStorage, type ThrottlerStorage } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/app-config.js';
import { AUTH_RULE, type AuthRule } from './auth.decorator.js';

/** Passport strategies tried in order; the first that authenticates wins. */
export const AUTH_STRATEGIES = ['jwt'];

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
      const reason = err instanceof Error ? err.message : info instanceof Error ? info.message : undefined;
      throw new UnauthorizedException(reason && !/No auth token/i.test(reason) ? reason : 'Authentication required');
    }
    return user;
  }

  private async countFailure(context: ExecutionContext): Promise<void> {
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
