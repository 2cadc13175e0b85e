import { Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { AuthUser } from './roles.js';

/** Rate limits per principal: the API key, else the user, else (anonymous) the client address. */
@Injectable()
export class PrincipalThrottlerGuard extends ThrottlerGuard {
  protected override async getTracker(req: Record<string, any>): Promise<string> {
    const user = req.user as AuthUser | undefined;
    if (user?.apiKeyId) return `key:${user.apiKeyId}`;
    if (user) return `user:${user.userId}`;
    return `ip:${req.ip}`;
  }
}
