import { ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request, Response } from 'express';

import { AuthenticationGuard } from '../auth/authentication.guard.js';
import { type AuthUser, roleSatisfies } from '../auth/roles.js';
import { CachedReflector } from '../auth/route-metadata.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { CredentialAttempts } from '../throttling/credential-attempts.js';
import { secretsEqual } from './api-key-secret.js';

export const INTERNAL_API_KEY_HEADER = 'x-internal-api-key';

/**
 * For a `@Public()` route that other services call: `X-Internal-Api-Key` equal to INTERNAL_API_KEY
 * (compared in constant time), or else the usual credentials of an admin. The internal key is a
 * guessable secret like an API key (CredentialAttempts): while the address is blocked any internal
 * key is a 429, the right one too; a wrong one is a 401 and counts. A valid API key or a non-admin
 * token is a 403.
 */
@Injectable()
export class InternalOrAdminGuard extends AuthenticationGuard {
  private readonly internalApiKey: string | null;

  constructor(reflector: CachedReflector, attempts: CredentialAttempts, @Inject(APP_CONFIG) config: AppConfig) {
    super(reflector, attempts);
    this.internalApiKey = config.internalApiKey;
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request & { user?: AuthUser }>();
    const given = req.headers[INTERNAL_API_KEY_HEADER];
    if (given !== undefined) {
      const res = http.getResponse<Response>();
      await this.attempts.assertNotBlocked(req, res);
      // Without a configured key nothing matches (an empty key never opens the route).
      if (typeof given === 'string' && this.internalApiKey !== null && secretsEqual(given, this.internalApiKey))
        return true;
      await this.attempts.failed(req);
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
