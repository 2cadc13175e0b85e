import { Inject, Injectable, Logger } from '@nestjs/common';

import { CLOCK, type Clock } from '../common/clock.js';
import { errorText } from '../common/errors/error-text.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { OutboxWorker } from '../database/outbox/outbox-worker.js';
import {
  type ClaimedDelivery,
  DELIVERY_CHANNEL,
  WebhookDeliveriesRepository,
} from '../events/webhook-deliveries.repository.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { AllowedNetworks } from './allowed-networks.js';
import { CLAIM_LEASE_MS, ENDPOINT_FAILING_LIMIT_MS, nextAttemptAfterFailure } from './retry-schedule.js';
import { WebhookResolver } from './webhook-runtime.js';
import { postWebhook, type WebhookAgents, webhookAgents } from './webhook-sender.js';
import { signatureHeaders } from './webhook-signing.js';
import { WebhooksService } from './webhooks.service.js';

/**
 * Delivers webhooks from every instance through the outbox core ({@link OutboxWorker}): woken by the
 * NOTIFY that emit_event() sends at commit, claimed with SKIP LOCKED plus a lease, each attempt made
 * outside any transaction and its outcome written afterwards.
 */
@Injectable()
export class WebhookDeliveryWorker extends OutboxWorker<ClaimedDelivery> {
  /** Connections to receivers kept open between attempts (closed when the worker stops). */
  private readonly agents: WebhookAgents;
  private readonly networks: AllowedNetworks;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly webhooks: WebhooksService,
    @Inject(CLOCK) clock: Clock,
    private readonly resolver: WebhookResolver,
    private readonly metrics: MetricsService,
  ) {
    super({
      url: config.database.url ?? null,
      channel: DELIVERY_CHANNEL,
      applicationName: 'accounting-webhooks',
      logger: new Logger('Webhooks'),
      concurrency: config.webhooks.concurrency,
      pollIntervalMs: config.webhooks.pollIntervalMs,
      enabled: config.webhooks.workerEnabled,
      clock,
    });
    this.agents = webhookAgents(config.webhooks.concurrency);
    this.networks = new AllowedNetworks(config.webhooks.allowedNetworks);
  }

  protected claimDue(now: Date, limit: number): Promise<ClaimedDelivery[]> {
    return this.deliveries.claimDue(now, limit, CLAIM_LEASE_MS);
  }

  protected override onStopped(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
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
  protected async attempt(claim: ClaimedDelivery): Promise<void> {
    try {
      const started = this.now();
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
      const finished = this.now();
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
