import { ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { InjectThrottlerStorage, type ThrottlerStorage } from '@nestjs/throttler';
import type { Request } from 'express';

import { AuthenticationGuard } from '../auth/authentication.guard.js';
import { type AuthUser, roleSatisfies } from '../auth/roles.js';
import { CachedReflector } from '../auth/route-metadata.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { secretsEqual } from './api-key-secret.js';

export const INTERNAL_API_KEY_HEADER = 'x-internal-api-key';

/**
 * For a `@Public()` route that other services call: `X-Internal-Api-Key` equal to INTERNAL_API_KEY
 * (compared in constant time), or else the usual credentials of an admin. A wrong internal key is a
 * 401 counted like any failed login; a valid API key or a non-admin token is a 403.
 */
@Injectable()
export class InternalOrAdminGuard extends AuthenticationGuard {
  private readonly internalApiKey: string | null;

  constructor(
    reflector: CachedReflector,
    @InjectThrottlerStorage() throttlerStorage: ThrottlerStorage,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    super(reflector, throttlerStorage, config);
    this.internalApiKey = config.internalApiKey;
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request & { user?: AuthUser }>();
    const given = req.headers[INTERNAL_API_KEY_HEADER];
    if (given !== undefined) {
      // Without a configured key nothing matches (an empty key never opens the route).
      if (typeof given === 'string' && this.internalApiKey !== null && secretsEqual(given, this.internalApiKey))
        return true;
      await this.countFailure(context);
      throw new UnauthorizedException('Invalid internal API key');
    }
    await this.authenticate(context);
    const user = req.user;
    if (user?.via === 'api-key') throw new ForbiddenException('API keys cannot call this route');
    if (!user || !roleSatisfies(user.role, 'admin'))
      throw new ForbiddenException('Requires role admin or the internal API key');
    return true;
  }
}
