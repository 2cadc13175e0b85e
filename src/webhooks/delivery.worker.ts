import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';

import { CLOCK, type Clock } from '../common/clock.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { ChannelListener } from '../database/channel-listener.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { AllowedNetworks } from './allowed-networks.js';
import { CLAIM_LEASE_MS, ENDPOINT_FAILING_LIMIT_MS, nextAttemptAfterFailure } from './retry-schedule.js';
import {
  type ClaimedDelivery,
  DELIVERY_CHANNEL,
  WebhookDeliveriesRepository,
} from './webhook-deliveries.repository.js';
import { WebhookResolver } from './webhook-runtime.js';
import { postWebhook, type WebhookAgents, webhookAgents } from './webhook-sender.js';
import { signatureHeaders } from './webhook-signing.js';
import { WebhooksService } from './webhooks.service.js';

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Delivers webhooks from every instance, never inside a request. Woken by the NOTIFY that
 * emit_event() sends at commit (on a dedicated connection), and by a short poll as a fallback (a lost
 * notification, a retry coming due). Each pass claims due deliveries with SKIP LOCKED plus a lease,
 * attempts them outside any transaction, then writes each outcome. Stopped on shutdown after the
 * attempts in flight have finished (at most the 10 s timeout).
 */
@Injectable()
export class WebhookDeliveryWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Webhooks');
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private wake: (() => void) | null = null;
  private woken = false;
  /** emit_event()'s NOTIFY at commit; while it is lost, the poll delivers. */
  private readonly listener: ChannelListener;
  /** Connections to receivers kept open between attempts (closed when the worker stops). */
  private readonly agents: WebhookAgents;
  private readonly networks: AllowedNetworks;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly webhooks: WebhooksService,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly resolver: WebhookResolver,
    private readonly metrics: MetricsService,
  ) {
    this.agents = webhookAgents(config.webhooks.concurrency);
    this.networks = new AllowedNetworks(config.webhooks.allowedNetworks);
    this.listener = new ChannelListener({
      url: config.database.url ?? null,
      channel: DELIVERY_CHANNEL,
      applicationName: 'accounting-webhooks',
      logger: this.logger,
      onNotification: () => this.notify(),
      onListening: () => this.notify(), // anything queued while not listening
    });
  }

  onApplicationBootstrap(): void {
    if (this.config.webhooks.workerEnabled) this.start();
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
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /**
   * One complete pass for tests and tools: attempts everything due now (on the injected clock) and
   * waits for the outcomes. Returns how many attempts it made.
   */
  async runDue(): Promise<number> {
    let total = 0;
    const batch = this.config.webhooks.concurrency;
    for (;;) {
      const claimed = await this.deliveries.claimDue(new Date(this.clock.now()), batch, CLAIM_LEASE_MS);
      await Promise.all(claimed.map((c) => this.attempt(c)));
      total += claimed.length;
      if (claimed.length < batch) return total;
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

  private async run(): Promise<void> {
    const { concurrency, pollIntervalMs } = this.config.webhooks;
    while (this.running) {
      try {
        const free = concurrency - this.inFlight.size;
        if (free <= 0) {
          await Promise.race(this.inFlight);
          continue;
        }
        this.woken = false;
        const claimed = await this.deliveries.claimDue(new Date(this.clock.now()), free, CLAIM_LEASE_MS);
        for (const claim of claimed) {
          const attempt = this.attempt(claim).finally(() => this.inFlight.delete(attempt));
          this.inFlight.add(attempt);
        }
        if (claimed.length < free) await this.sleep(pollIntervalMs);
      } catch (error) {
        this.logger.warn({ msg: 'webhook delivery pass failed', err: errorText(error) });
        await this.sleep(pollIntervalMs);
      }
    }
  }

  private secretsFor(claim: ClaimedDelivery, now: Date): string[] {
    const box = this.webhooks.secrets;
    const secrets = [box.open(claim.secretEncrypted, claim.endpointId)];
    if (claim.previousSecretEncrypted && claim.previousSecretExpiresAt && claim.previousSecretExpiresAt > now) {
      secrets.push(box.open(claim.previousSecretEncrypted, claim.endpointId));
    }
    return secrets;
  }

  /** One attempt of one claimed delivery; never throws. */
  private async attempt(claim: ClaimedDelivery): Promise<void> {
    try {
      const started = new Date(this.clock.now());
      if (!claim.endpointActive) {
        await this.deliveries.recordFailure(claim, started, { statusCode: null, error: 'endpoint disabled' }, null);
        return;
      }
      let outcome;
      try {
        const headers = signatureHeaders(
          this.secretsFor(claim, started),
          claim.eventId,
          Math.floor(started.getTime() / 1000),
          claim.body,
        );
        outcome = await postWebhook(claim.url, headers, claim.body, {
          allowPrivate: this.config.webhooks.allowPrivateUrls,
          networks: this.networks,
          resolve: this.resolver.resolve,
          agents: this.agents,
        });
      } catch (error) {
        // A secret that no longer decrypts (WEBHOOK_SECRET_KEY changed) or a URL the runtime rejects.
        outcome = { ok: false, statusCode: null, error: `not sent: ${errorText(error)}` };
      }
      const finished = new Date(this.clock.now());
      if (outcome.ok) {
        await this.deliveries.recordSuccess(claim, finished, outcome.statusCode ?? 200);
        this.metrics.webhookDelivery('succeeded');
        return;
      }
      const next = nextAttemptAfterFailure(finished, claim.queuedAt, claim.attempts);
      const endpoint = await this.deliveries.recordFailure(claim, started, outcome, next);
      this.metrics.webhookDelivery(next ? 'retrying' : 'failed');
      if (endpoint?.isActive && finished.getTime() - endpoint.failingSince.getTime() >= ENDPOINT_FAILING_LIMIT_MS) {
        await this.webhooks.disableFailing(claim.endpointId, endpoint.failingSince);
      }
    } catch (error) {
      // The outcome could not be written: the lease expires and the delivery is attempted again.
      this.logger.warn({ msg: 'webhook delivery outcome not recorded', deliveryId: claim.id, err: errorText(error) });
    }
  }
}
