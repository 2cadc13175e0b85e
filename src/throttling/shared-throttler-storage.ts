import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { Redis } from 'ioredis';

import { CLOCK, type Clock } from '../common/clock.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { LocalWindowStorage } from './local-window-storage.js';

type StorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * Counts a rate-limit check that fell back to this instance's memory. The metrics module provides
 * it (MetricsService), so throttling does not import metrics, which imports throttling.
 */
export interface StoreErrorCounter {
  rateLimitStoreError(): void;
}
export const STORE_ERROR_COUNTER = Symbol('STORE_ERROR_COUNTER');

/** A rate-limit check must not wait on a slow Redis longer than this. */
const REDIS_COMMAND_TIMEOUT_MS = 250;
/** How long start-up waits for Redis before serving with the fallback. */
const REDIS_STARTUP_WAIT_MS = 2000;

/**
 * The counters behind every rate limit (the per-principal limit and the failed-authentication
 * limit). With REDIS_URL they live in Redis, so every instance counts against one limit; without it,
 * in this process's memory (LocalWindowStorage: the same fixed windows).
 *
 * When Redis does not answer, rate limiting fails OPEN to per-instance counting: the request is
 * checked against this instance's in-memory counters (each instance then allows the full limit, as
 * without REDIS_URL), a warning is logged once per outage and `accounting_rate_limit_store_errors_total`
 * counts each such check. Failing closed would turn a cache outage into a billing outage; money is
 * never at stake here (balances, budgets and spend-rate limits are enforced by PostgreSQL).
 */
@Injectable()
export class SharedThrottlerStorage implements ThrottlerStorage, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('RateLimit');
  private readonly local: LocalWindowStorage;
  private readonly redis: ThrottlerStorageRedisService | null = null;
  private redisDown = false;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(STORE_ERROR_COUNTER) private readonly metrics: StoreErrorCounter,
    @Inject(CLOCK) clock: Clock,
  ) {
    // The app's clock: a test ends a window or a block by setting it, not by waiting.
    this.local = new LocalWindowStorage(60_000, () => clock.now());
    if (!config.redisUrl) return;
    const client = new Redis(config.redisUrl, {
      // Fail fast instead of queueing commands while disconnected; reconnect in the background.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
      connectionName: 'accounting-service',
      // A Redis shared with other applications: this service's counters under their own prefix.
      keyPrefix: 'accounting-service:',
    });
    // ioredis emits 'error' on every failed (re)connection; the outage is reported by increment().
    client.on('error', () => undefined);
    client.on('ready', () => this.recovered());
    this.redis = new ThrottlerStorageRedisService(client);
  }

  /** Waits briefly for the first connection, so the first requests do not all take the fallback. */
  async onModuleInit(): Promise<void> {
    const client = this.redis?.redis;
    if (!client || client.status === 'ready') return;
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), REDIS_STARTUP_WAIT_MS);
      const settle = (ready: boolean) => {
        clearTimeout(timer);
        resolve(ready);
      };
      client.once('ready', () => settle(true));
      // Refused at once (nothing listens): no point in waiting out the timer.
      client.once('error', () => settle(false));
    });
    if (!ready) this.failedOver(new Error(`no connection within ${REDIS_STARTUP_WAIT_MS} ms`));
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<StorageRecord> {
    if (this.redis) {
      try {
        return await this.redis.increment(key, ttl, limit, blockDuration, throttlerName);
      } catch (error) {
        this.failedOver(error);
      }
    }
    return this.local.increment(key, ttl, limit, blockDuration, throttlerName);
  }

  /**
   * Seconds until the key's block ends (0: not blocked), without counting a hit: whether a caller may
   * try a secret at all. Falls back like `increment` when Redis does not answer.
   */
  async blockedFor(key: string, throttlerName: string): Promise<number> {
    if (this.redis) {
      try {
        // The block key @nest-lab/throttler-storage-redis's increment() sets (PX blockDuration).
        const left = await this.redis.redis.pttl(`{${key}:${throttlerName}}:blocked`);
        return left > 0 ? Math.ceil(left / 1000) : 0;
      } catch (error) {
        this.failedOver(error);
      }
    }
    return this.local.blockedFor(key, throttlerName);
  }

  private failedOver(error: unknown): void {
    this.metrics.rateLimitStoreError();
    if (this.redisDown) return;
    this.redisDown = true;
    this.logger.warn({
      msg: 'Redis (REDIS_URL) is not answering: rate limits fall back to per-instance counters until it is back',
      err: error instanceof Error ? error.message : String(error),
    });
  }

  private recovered(): void {
    if (!this.redisDown) return;
    this.redisDown = false;
    this.logger.log({ msg: 'Redis (REDIS_URL) is back: rate limits are shared again' });
  }

  onApplicationShutdown(): void {
    this.local.close();
    this.redis?.redis.disconnect(false);
  }
}
