import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Pool } from 'undici';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { GatewayUpstream } from '../config/gateway-config.js';

/** How long an idle upstream connection is kept for the next request (a provider closes its own sooner). */
const KEEP_ALIVE_MS = 60_000;
/** Connecting (TCP and TLS) to an upstream: longer than this is an unreachable upstream (502). */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * One undici Pool per upstream: connections kept alive and reused, a request's headers and body sent
 * in one write. The whole exchange's bound is the caller's AbortSignal (GATEWAY_UPSTREAM_TIMEOUT_SECONDS
 * joined with the client's departure); the pool's own header and body timeouts are set to the same
 * bound so they never cut an exchange sooner.
 */
@Injectable()
export class UpstreamPools implements OnModuleDestroy {
  private readonly pools = new Map<string, Pool>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** The pool of `upstream` (made at its first request). */
  of(upstream: GatewayUpstream): Pool {
    let pool = this.pools.get(upstream.name);
    if (pool === undefined) {
      const bound = this.config.gateway.upstreamTimeoutSeconds * 1000;
      pool = new Pool(new URL(upstream.baseUrl).origin, {
        keepAliveTimeout: KEEP_ALIVE_MS,
        headersTimeout: bound,
        bodyTimeout: bound,
        connect: { timeout: CONNECT_TIMEOUT_MS },
      });
      this.pools.set(upstream.name, pool);
    }
    return pool;
  }

  async onModuleDestroy(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((pool) => pool.destroy()));
  }
}
