import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy } from 'passport-custom';

import type { AuthUser } from '../auth/roles.js';
import { PortalSessionsService } from './portal-sessions.service.js';

/**
 * `Authorization: Bearer acp_…` for the global AuthenticationGuard, tried before the JWT. Any other
 * bearer: `fail()` (null), so passport goes on to the JWT strategy. A portal token that is unknown,
 * ended or expired: a 401 that ends authentication there.
 */
@Injectable()
export class PortalStrategy extends PassportStrategy(Strategy, 'portal') {
  constructor(private readonly sessions: PortalSessionsService) {
    super();
  }

  validate(req: Request): Promise<AuthUser | null> {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer (acp_\S*)$/i.exec(header) : null;
    return this.sessions.authenticate(match?.[1]);
  }
}
