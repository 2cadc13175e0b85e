import type { ThrottlerStorage } from '@nestjs/throttler';

type StorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

interface Window {
  hits: number;
  /** When the current window ends (ms since the epoch). */
  endsAt: number;
  /** Blocked until then (0: not blocked). */
  blockedUntil: number;
}

/**
 * This instance's counters when there is no Redis (or Redis does not answer): the fixed window the
 * Redis store counts in (@nest-lab/throttler-storage-redis: INCR, a PEXPIRE'd window, a block key),
 * so a principal is limited the same way with and without REDIS_URL, in O(1) per request.
 *
 * @nestjs/throttler's own in-memory store keeps one timestamp per request of the window and filters
 * that list on every request: under a generous limit (an ingest key at thousands of requests a
 * minute) each request paid for all the others, and it cost a balance read 7 % of its Node CPU.
 */
export class LocalWindowStorage {
  private readonly windows = new Map<string, Window>();
  private readonly sweep: NodeJS.Timeout;

  constructor(
    sweepIntervalMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {
    this.sweep = setInterval(() => this.evictEnded(), sweepIntervalMs);
    this.sweep.unref();
  }

  increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): StorageRecord {
    const id = `${key}:${throttlerName}`;
    const now = this.now();
    let window = this.windows.get(id);
    if (!window) {
      window = { hits: 0, endsAt: 0, blockedUntil: 0 };
      this.windows.set(id, window);
    }
    if (window.endsAt <= now) {
      window.hits = 0;
      window.endsAt = now + ttl;
    }
    window.hits += 1;
    if (window.blockedUntil <= now && window.hits > limit) window.blockedUntil = now + blockDuration;
    const isBlocked = window.blockedUntil > now;
    return {
      totalHits: window.hits,
      timeToExpire: Math.ceil((window.endsAt - now) / 1000),
      isBlocked,
      timeToBlockExpire: isBlocked ? Math.ceil((window.blockedUntil - now) / 1000) : 0,
    };
  }

  /** Seconds until the key's block ends (0: not blocked), without counting a hit. */
  blockedFor(key: string, throttlerName: string): number {
    const window = this.windows.get(`${key}:${throttlerName}`);
    const left = window ? window.blockedUntil - this.now() : 0;
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  /** Forgets windows that ended and blocks that ran out: memory stays bounded by the active principals. */
  evictEnded(): void {
    const now = this.now();
    for (const [id, window] of this.windows) {
      if (window.endsAt <= now && window.blockedUntil <= now) this.windows.delete(id);
    }
  }

  get size(): number {
    return this.windows.size;
  }

  close(): void {
    clearInterval(this.sweep);
    this.windows.clear();
  }
}
