import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy } from 'passport-custom';

import type { AuthUser } from '../auth/roles.js';
import { ApiKeysService } from './api-keys.service.js';

export const API_KEY_HEADER = 'x-api-key';

/**
 * `X-API-Key` authentication for the global AuthenticationGuard. No header: `fail()` (returning null),
 * so passport goes on to the JWT strategy. A header with an unknown, revoked or expired key: a 401
 * error that ends authentication there, whatever else the request carries.
 */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(Strategy, 'api-key') {
  constructor(private readonly apiKeys: ApiKeysService) {
    super();
  }

  async validate(req: Request): Promise<AuthUser | null> {
    const header = req.headers[API_KEY_HEADER];
    if (header === undefined || header === '') return null;
    // Repeated headers arrive joined with ", ", which is never a valid key.
    return this.apiKeys.authenticate(Array.isArray(header) ? header.join(', ') : header);
  }
}
