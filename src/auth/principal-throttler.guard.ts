import { type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerRequest,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import type { Request } from 'express';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { presentsCredential } from '../throttling/anonymous-requests.js';
import { isServicePrincipal } from './metering.js';
import type { AuthUser } from './roles.js';
import { CachedReflector } from './route-metadata.js';

/**
 * Rate limits per principal, one budget per principal and window across ALL routes (the library's
 * default key also contains the controller and handler, which would give every principal
 * THROTTLE_LIMIT per route):
 * - a service principal (a service key, an admin's token) meters the whole platform: its own budget,
 *   SERVICE_THROTTLE_LIMIT, per key (or per admin);
 * - an ordinary user: THROTTLE_LIMIT per user, whichever of their keys or tokens they use (a user
 *   does not multiply their budget by making keys);
 * - no credential at all: counted before authentication by AnonymousRequests (ANONYMOUS_THROTTLE_LIMIT
 *   per address), not here; a public route called with a credential it does not check: per address.
 */
@Injectable()
export class PrincipalThrottlerGuard extends ThrottlerGuard {
  private readonly serviceLimit: number;

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: CachedReflector,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    super(options, storage, reflector);
    this.serviceLimit = config.throttle.serviceLimit;
  }

  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${throttlerName}:${tracker}`;
  }

  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    return trackerOf(req);
  }

  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    const req = props.context.switchToHttp().getRequest<Request>();
    const user = req.user as AuthUser | undefined;
    if (!user && !presentsCredential(req)) return true;
    const limit = user && isServicePrincipal(user) ? this.serviceLimit : props.limit;
    return super.handleRequest({ ...props, limit });
  }
}

/** The bucket a request counts in (see PrincipalThrottlerGuard). */
export function trackerOf(req: Record<string, unknown>): string {
  const user = req.user as AuthUser | undefined;
  if (!user) return `ip:${req.ip as string}`;
  if (isServicePrincipal(user)) return user.apiKeyId ? `service-key:${user.apiKeyId}` : `service-user:${user.userId}`;
  return `user:${user.userId}`;
}
