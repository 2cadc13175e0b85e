import { type ExecutionContext, Injectable } from '@nestjs/common';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';

import type { AuthUser } from './roles.js';
import { CachedReflector } from './route-metadata.js';

/**
 * Rate limits per principal: the API key, else the user, else (anonymous) the client address.
 * One budget per principal and window across ALL routes (the library's default key also contains
 * the controller and handler, which would give every principal THROTTLE_LIMIT per route).
 */
@Injectable()
export class PrincipalThrottlerGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: CachedReflector,
  ) {
    super(options, storage, reflector);
  }

  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${throttlerName}:${tracker}`;
  }

  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    const user = req.user as AuthUser | undefined;
    if (user?.apiKeyId) return `key:${user.apiKeyId}`;
    if (user) return `user:${user.userId}`;
    return `ip:${req.ip}`;
  }
}
