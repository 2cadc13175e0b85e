import { HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { AddressWindow } from './address-window.js';
import { SharedThrottlerStorage } from './shared-throttler-storage.js';

/**
 * Online guessing of a secret (an API key, the internal key, the metrics token) from one client
 * address: wrong attempts count per address, all kinds together, THROTTLE_AUTH_FAILURE_LIMIT per
 * THROTTLE_TTL_SECONDS (in Redis with REDIS_URL, else in memory). Over the limit the address is
 * blocked until its window ends, and while it is, every attempt with such a secret is a 429, the right
 * one too, so a guesser cannot learn which guess was right from the one answer that is not a 429. The
 * one exception is a valid service key (docs/operations.md "Rate limits: who counts against what": the gateway that meters everyone shares its
 * address with whoever guesses behind it): the key is therefore checked before the block is applied,
 * and a right service key passes. Service keys are 256-bit random strings: guessing one is not a
 * question of attempts per minute.
 *
 * A JWT is not such a secret: a failed JWT is always a 401 (see AuthenticationGuard).
 */
@Injectable()
export class CredentialAttempts {
  private readonly window: AddressWindow;

  constructor(storage: SharedThrottlerStorage, @Inject(APP_CONFIG) config: AppConfig) {
    const { ttlSeconds, authFailureLimit } = config.throttle;
    // The stores block once the count EXCEEDS their limit: the failure that reaches ours starts the block.
    this.window = new AddressWindow(storage, 'auth-failure', 'auth-failure', ttlSeconds, authFailureLimit - 1);
  }

  /** Before a presented secret is checked: a 429 while the caller's address is blocked. */
  async assertNotBlocked(req: Request, res: Response): Promise<void> {
    const seconds = await this.blockedFor(req);
    if (seconds > 0) refuseBlocked(res, seconds);
  }

  /** Seconds until the caller's address may try secrets again (0: not blocked). */
  blockedFor(req: Request): Promise<number> {
    return this.window.blockedFor(req);
  }

  /**
   * After a presented secret was wrong: counts it. The failure that reaches the limit starts the block
   * (for THROTTLE_TTL_SECONDS); it is still answered as the wrong secret it is, every attempt after it
   * with a 429.
   */
  async failed(req: Request): Promise<void> {
    await this.window.hit(req);
  }
}

/** The 429 of a blocked address, with the seconds until its block ends. */
export function refuseBlocked(res: Response, seconds: number): never {
  res.setHeader('Retry-After', String(seconds));
  throw new HttpException('Too many failed authentication attempts', HttpStatus.TOO_MANY_REQUESTS);
}
