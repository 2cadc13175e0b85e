import type { Request } from 'express';

import type { SharedThrottlerStorage } from './shared-throttler-storage.js';

/**
 * One count per client address (`req.ip`, as TRUST_PROXY says) in the shared throttler storage:
 * blocked for a window of THROTTLE_TTL_SECONDS once it has more than `limit` hits in one.
 * Each of the address limits (anonymous requests, wrong secrets) is one of these under its own
 * throttler name and key prefix.
 */
export class AddressWindow {
  private readonly windowMs: number;

  constructor(
    private readonly storage: SharedThrottlerStorage,
    private readonly throttler: string,
    private readonly prefix: string,
    ttlSeconds: number,
    private readonly limit: number,
  ) {
    this.windowMs = ttlSeconds * 1000;
  }

  /** Counts a hit of the request's address; answers for how many seconds it is blocked (0: it is not). */
  async hit(req: Request): Promise<number> {
    const record = await this.storage.increment(
      this.keyOf(req),
      this.windowMs,
      this.limit,
      this.windowMs,
      this.throttler,
    );
    return record.isBlocked ? record.timeToBlockExpire : 0;
  }

  /** Seconds until the request's address is no longer blocked (0: it is not), without counting a hit. */
  blockedFor(req: Request): Promise<number> {
    return this.storage.blockedFor(this.keyOf(req), this.throttler);
  }

  private keyOf(req: Request): string {
    return `${this.prefix}:${req.ip}`;
  }
}
