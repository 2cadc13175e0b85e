import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable } from '@nestjs/common';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { AUTH_RULE, type AuthRule } from './auth.decorator.js';
import { assertMayMeter } from './metering.js';
import { type AuthUser, roleSatisfies } from './roles.js';
import { CachedReflector } from './route-metadata.js';

/** Routes without an explicit rule fall back to the strictest reading: any user, no API keys. */
const DEFAULT_RULE: AuthRule = { role: 'user' };

/** Global authorisation: role hierarchy for tokens, scopes for API keys. Runs after authentication. */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: CachedReflector,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'meteringTrust'>,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const rule =
      this.reflector.getAllAndOverride<AuthRule | undefined>(AUTH_RULE, [context.getHandler(), context.getClass()]) ??
      DEFAULT_RULE;
    if (rule.public) return true;
    const user = context.switchToHttp().getRequest().user as AuthUser | undefined;
    if (!user) throw new ForbiddenException('Not authenticated');
    if (rule.meters) assertMayMeter(user, this.config.meteringTrust);

    if (user.via === 'api-key') {
      if (rule.role !== 'user' || rule.apiKeyScope === undefined) {
        throw new ForbiddenException('API keys cannot call this route');
      }
      const serviceKey = rule.meters && user.scopes?.includes('usage:ingest');
      if (rule.apiKeyScope !== 'any' && !serviceKey && !user.scopes?.includes(rule.apiKeyScope)) {
        throw new ForbiddenException(`API key lacks the scope ${rule.apiKeyScope}`);
      }
      return true;
    }
    if (!roleSatisfies(user.role, rule.role)) {
      throw new ForbiddenException(`Requires role ${rule.role}`);
    }
    return true;
  }
}
