import type { BeforeApplicationShutdown, Logger, OnApplicationBootstrap } from '@nestjs/common';

import type { Clock } from '../../common/clock.js';
import { errorText } from '../../common/errors/error-text.js';
import { ChannelListener } from '../connections/channel-listener.js';

export interface OutboxWorkerOptions {
  /** The database whose commits NOTIFY the channel (the primary). */
  url: string | null;
  /** The channel the outbox's trigger NOTIFYs at commit. */
  channel: string;
  /** `application_name` of the LISTEN connection, as pg_stat_activity shows it. */
  applicationName: string;
  logger: Logger;
  /** Attempts in flight at once, and the size of one claim. */
  concurrency: number;
  /** The fallback poll: a lost notification, a retry coming due. */
  pollIntervalMs: number;
  /** Started with the application (tests and tools that call `runDue()` turn it off). */
  enabled: boolean;
  /** The injected clock (tests set it): what is due, and when an attempt was made. */
  clock: Clock;
}

/**
 * The delivery core every outbox shares (webhooks, email): work leaves only after the transaction that
 * queued it has committed, from every instance, never inside a request. Woken by the NOTIFY the
 * outbox's trigger sends at commit (on a dedicated connection) and by a short poll as a fallback; each
 * pass claims due rows (SKIP LOCKED plus a lease, in the subclass's repository), attempts them outside
 * any transaction, and the subclass writes each outcome only while the claim is still its own. Stopped
 * on shutdown after the attempts in flight have finished.
 *
 * A subclass says what a claim is, how to claim and how to attempt one (its transport); the loop, the
 * wake-ups, the start with the application and the shutdown are here once. The claim and the outcome
 * writes share their statements (`outbox-claim.ts`), the retries their rule (`outbox-retry.ts`).
 */
export abstract class OutboxWorker<Claim> implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private wake: (() => void) | null = null;
  private woken = false;
  private readonly listener: ChannelListener;
  protected readonly logger: Logger;

  protected constructor(private readonly options: OutboxWorkerOptions) {
    this.logger = options.logger;
    this.listener = new ChannelListener({
      url: options.url,
      channel: options.channel,
      applicationName: options.applicationName,
      logger: options.logger,
      onNotification: () => this.notify(),
      onListening: () => this.notify(), // anything queued while not listening
    });
  }

  /** Claims at most `limit` rows due at `now` for this instance, each under a lease. */
  protected abstract claimDue(now: Date, limit: number): Promise<Claim[]>;

  /** One attempt of one claimed row, its outcome written; never throws. */
  protected abstract attempt(claim: Claim): Promise<void>;

  /** The injected clock's time (tests set it). */
  protected now(): Date {
    return new Date(this.options.clock.now());
  }

  /** Releases what the attempts held (connections, transports) once the last one has finished. */
  protected onStopped(): void {}

  onApplicationBootstrap(): void {
    if (this.options.enabled) this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.listener.start();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.notify();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
    await this.listener.stop();
    this.onStopped();
  }

  /**
   * One complete pass for tests and tools: attempts everything due now (on the injected clock) and
   * waits for the outcomes. Returns how many attempts it made.
   */
  async runDue(): Promise<number> {
    const { concurrency } = this.options;
    let total = 0;
    for (;;) {
      const claimed = await this.claimDue(this.now(), concurrency);
      await Promise.all(claimed.map((claim) => this.attempt(claim)));
      total += claimed.length;
      if (claimed.length < concurrency) return total;
    }
  }

  private notify(): void {
    this.woken = true;
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        this.woken = false;
        resolve();
      };
    });
  }

  /** Keeps up to `concurrency` attempts in flight, claiming as slots free up. */
  private async run(): Promise<void> {
    const { concurrency, pollIntervalMs, channel } = this.options;
    while (this.running) {
      try {
        const free = concurrency - this.inFlight.size;
        if (free <= 0) {
          await Promise.race(this.inFlight);
          continue;
        }
        this.woken = false;
        const claimed = await this.claimDue(this.now(), free);
        for (const claim of claimed) {
          const attempt = this.attempt(claim).finally(() => this.inFlight.delete(attempt));
          this.inFlight.add(attempt);
        }
        if (claimed.length < free) await this.sleep(pollIntervalMs);
      } catch (error) {
        this.logger.warn({ msg: 'outbox pass failed', channel, err: errorText(error) });
        await this.sleep(pollIntervalMs);
      }
    }
  }
}
