import { HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { AddressWindow } from './address-window.js';
import { SharedThrottlerStorage } from './shared-throttler-storage.js';

/** Whether a request presents any credential (a bearer token, an API key, the internal key). */
export function presentsCredential(req: Request): boolean {
  const { authorization, 'x-api-key': apiKey, 'x-internal-api-key': internalKey } = req.headers;
  return [authorization, apiKey, internalKey].some((value) => value !== undefined && value !== '');
}

/**
 * Requests that carry no credential at all (docs/operations.md "Rate limits: who counts against what"):
 * ANONYMOUS_THROTTLE_LIMIT per THROTTLE_TTL_SECONDS per client address (`req.ip`, as TRUST_PROXY
 * says), whatever route they ask for, before authentication refuses them: a flood of anonymous
 * requests is a 429 once over the limit, not an endless stream of 401s. Routes that skip throttling
 * (health, metrics) are not counted: load balancers and scrapers poll them.
 */
@Injectable()
export class AnonymousRequests {
  private readonly window: AddressWindow;

  constructor(storage: SharedThrottlerStorage, @Inject(APP_CONFIG) config: AppConfig) {
    const { ttlSeconds, anonymousLimit } = config.throttle;
    this.window = new AddressWindow(storage, 'anonymous', 'anon', ttlSeconds, anonymousLimit);
  }

  /** Counts the request; a 429 with Retry-After once its address is over the limit. */
  async admit(req: Request, res: Response): Promise<void> {
    const blockedFor = await this.count(req);
    if (blockedFor === 0) return;
    res.setHeader('Retry-After', String(blockedFor));
    throw new HttpException('Too many requests without credentials from this address', HttpStatus.TOO_MANY_REQUESTS);
  }

  /**
   * Counts the request in its address's bucket; answers for how many seconds the address is over the
   * limit (0: it is not). Also for requests whose Authorization header nothing here could verify
   * (AuthenticationGuard): a made-up header must not be a way round this limit.
   */
  count(req: Request): Promise<number> {
    return this.window.hit(req);
  }
}
