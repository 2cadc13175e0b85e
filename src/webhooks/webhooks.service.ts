import { randomUUID } from 'node:crypto';

import { Inject, Injectable, Logger } from '@nestjs/common';

import { AuditService } from '../audit/audit.service.js';
import type { AuthUser } from '../auth/roles.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { DomainError, NotFoundError } from '../common/errors/domain-error.js';
import { decodeTimeCursor, DEFAULT_LIMIT, type Page, toPage } from '../common/http/pagination.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { Transactions } from '../database/transactions.js';
import type { WebhookEndpoint } from '../events/entities/webhook-endpoint.entity.js';
import { type DeliverySqlRow, WebhookDeliveriesRepository } from '../events/webhook-deliveries.repository.js';
import { type EndpointPatch, WebhookEndpointsRepository } from '../events/webhook-endpoints.repository.js';
import { AllowedNetworks } from './allowed-networks.js';
import type {
  AcceptedRetryResponseDto,
  AcceptedTestResponseDto,
  CreatedWebhookResponseDto,
  CreateWebhookDto,
  DeliveriesQueryDto,
  DeliveryResponseDto,
  RotatedSecretResponseDto,
  UpdateWebhookDto,
  WebhookResponseDto,
} from './dto/webhooks.dto.js';
import { SecretBox } from './secret-box.js';
import { WebhookResolver } from './webhook-runtime.js';
import { generateSecret } from './webhook-signing.js';
import { checkWebhookUrl, UrlRefusedError } from './webhook-url.js';

/** After a rotation the old secret still signs for this long, so receivers can switch over. */
export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

export function toWebhookView(e: WebhookEndpoint): WebhookResponseDto {
  return {
    id: e.id,
    url: e.url,
    events: e.events,
    description: e.description,
    isActive: e.isActive,
    disabledReason: e.disabledReason,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

function toDeliveryView(r: DeliverySqlRow): DeliveryResponseDto {
  return {
    id: r.id,
    eventId: r.event_id,
    type: r.type,
    status: r.status,
    attempts: r.attempts,
    lastStatusCode: r.last_status_code,
    lastError: r.last_error,
    nextAttemptAt: r.next_attempt_at?.toISOString() ?? null,
    createdAt: r.created_at.toISOString(),
    deliveredAt: r.delivered_at?.toISOString() ?? null,
  };
}

/** Webhook endpoints, their secrets, the deliveries log, retries and the test event. */
@Injectable()
export class WebhooksService {
  private readonly logger = new Logger('Webhooks');
  readonly secrets: SecretBox;
  private readonly networks: AllowedNetworks;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly endpoints: WebhookEndpointsRepository,
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly tx: Transactions,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly resolver: WebhookResolver,
    private readonly audit: AuditService,
  ) {
    this.secrets = new SecretBox(config.webhooks.secretKey);
    this.networks = new AllowedNetworks(config.webhooks.allowedNetworks);
  }

  private async checkUrl(url: string): Promise<string> {
    try {
      const { allowPrivateUrls, allowedPorts } = this.config.webhooks;
      return await checkWebhookUrl(url, allowPrivateUrls, this.resolver.resolve, allowedPorts, this.networks);
    } catch (error) {
      if (error instanceof UrlRefusedError) throw new DomainError('VALIDATION', error.message);
      throw error;
    }
  }

  async create(user: AuthUser, dto: CreateWebhookDto): Promise<CreatedWebhookResponseDto> {
    const url = await this.checkUrl(dto.url);
    const id = randomUUID();
    const secret = generateSecret();
    const endpoint = await this.tx.run(async (m) => {
      const inserted = await this.endpoints.insert(m, {
        id,
        url,
        events: dto.events,
        description: dto.description ?? null,
        secretEncrypted: this.secrets.seal(secret, id),
        createdBy: user.userId,
      });
      await this.audit.record(m, {
        action: 'webhook.create',
        targetId: id,
        before: null,
        after: toWebhookView(inserted),
      });
      return inserted;
    });
    return { ...toWebhookView(endpoint), secret };
  }

  async list(query: { cursor?: string; limit?: number }): Promise<Page<WebhookResponseDto>> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const rows = await this.endpoints.list(decodeTimeCursor(query.cursor, 'uuid'), limit);
    return toPage(
      rows,
      limit,
      (r) => toWebhookView(r.endpoint),
      (r) => ({ t: r.tKey, id: r.endpoint.id }),
    );
  }

  private async mustFind(id: string, lock = false): Promise<WebhookEndpoint> {
    const endpoint = await this.endpoints.find(this.tx.statementManager, id, lock);
    if (!endpoint) throw new NotFoundError('Webhook');
    return endpoint;
  }

  async get(id: string): Promise<WebhookResponseDto> {
    return toWebhookView(await this.mustFind(id));
  }

  async update(id: string, dto: UpdateWebhookDto): Promise<WebhookResponseDto> {
    const url = dto.url === undefined ? undefined : await this.checkUrl(dto.url);
    return this.tx.run(async (m) => {
      const current = await this.endpoints.find(m, id, true);
      if (!current) throw new NotFoundError('Webhook');
      const patch: EndpointPatch = {};
      if (url !== undefined) patch.url = url;
      if (dto.events !== undefined) patch.events = dto.events;
      if (dto.description !== undefined) patch.description = dto.description;
      if (dto.isActive === true) Object.assign(patch, { isActive: true, disabledReason: null, failingSince: null });
      if (dto.isActive === false) {
        Object.assign(patch, { isActive: false, disabledReason: null });
        if (current.isActive) await this.deliveries.failPendingOfEndpoint(m, id, 'endpoint paused by an admin');
      }
      const after = toWebhookView(await this.endpoints.update(m, id, patch));
      await this.audit.record(m, { action: 'webhook.update', targetId: id, before: toWebhookView(current), after });
      return after;
    });
  }

  async remove(id: string): Promise<WebhookResponseDto> {
    return this.tx.run(async (m) => {
      const endpoint = await this.endpoints.find(m, id, true);
      if (!endpoint) throw new NotFoundError('Webhook');
      await this.endpoints.delete(m, id);
      const before = toWebhookView(endpoint);
      await this.audit.record(m, { action: 'webhook.delete', targetId: id, before, after: null });
      return { ...before, isActive: false };
    });
  }

  async rotateSecret(id: string): Promise<RotatedSecretResponseDto> {
    const secret = generateSecret();
    const previousSecretExpiresAt = new Date(this.clock.now() + ROTATION_OVERLAP_MS);
    await this.tx.run(async (m) => {
      const endpoint = await this.endpoints.find(m, id, true);
      if (!endpoint) throw new NotFoundError('Webhook');
      const updated = await this.endpoints.update(m, id, {
        secretEncrypted: this.secrets.seal(secret, id),
        previousSecretEncrypted: endpoint.secretEncrypted,
        previousSecretExpiresAt,
      });
      await this.audit.record(m, {
        action: 'webhook.rotate_secret',
        targetId: id,
        before: toWebhookView(endpoint),
        after: { ...toWebhookView(updated), previousSecretExpiresAt: previousSecretExpiresAt.toISOString() },
      });
    });
    return { id, secret, previousSecretExpiresAt: previousSecretExpiresAt.toISOString() };
  }

  async sendTest(id: string): Promise<AcceptedTestResponseDto> {
    return this.tx.run(async (m) => {
      const endpoint = await this.endpoints.find(m, id, true);
      if (!endpoint) throw new NotFoundError('Webhook');
      if (!endpoint.isActive) throw new DomainError('WEBHOOK_INACTIVE', 'The webhook is not active; enable it first');
      return { eventId: await this.deliveries.emitTestEvent(m, id) };
    });
  }

  async listDeliveries(id: string, query: DeliveriesQueryDto): Promise<Page<DeliveryResponseDto>> {
    await this.mustFind(id);
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = decodeTimeCursor(query.cursor, 'uuid');
    const rows = await this.deliveries.listForEndpoint(id, { status: query.status, after }, limit);
    return toPage(rows, limit, toDeliveryView, (r) => ({ t: r.t_key, id: r.id }));
  }

  async retry(deliveryId: string): Promise<AcceptedRetryResponseDto> {
    return this.tx.run(async (m) => {
      const delivery = await this.deliveries.find(m, deliveryId);
      if (!delivery) throw new NotFoundError('Delivery');
      if (!delivery.is_active) throw new DomainError('WEBHOOK_INACTIVE', 'The webhook is not active; enable it first');
      // A pending delivery is queued already (and may be mid-attempt under another instance's lease).
      if (delivery.status !== 'pending') {
        await this.deliveries.requeue(m, deliveryId, new Date(this.clock.now()));
        const target = { endpointId: delivery.endpoint_id, eventId: delivery.event_id };
        await this.audit.record(m, {
          action: 'webhook.retry',
          targetId: deliveryId,
          before: { ...target, status: delivery.status },
          after: { ...target, status: 'pending' },
        });
      }
      return { id: deliveryId, status: 'pending' as const };
    });
  }

  /** Every attempt to the endpoint has failed since `since` (3 days or more): it is disabled. */
  async disableFailing(endpointId: string, since: Date): Promise<void> {
    const reason =
      `Disabled by the service: every delivery attempt failed from ${since.toISOString()} for 3 days. ` +
      'Fix the receiver, then PATCH isActive: true and retry the failed deliveries.';
    const disabled = await this.tx.run(async (m) => {
      const endpoint = await this.endpoints.find(m, endpointId, true);
      if (!endpoint?.isActive) return false;
      await this.endpoints.update(m, endpointId, { isActive: false, disabledReason: reason });
      await this.deliveries.failPendingOfEndpoint(m, endpointId, 'endpoint disabled after failing for 3 days');
      return true;
    });
    if (disabled) this.logger.warn({ msg: 'webhook endpoint disabled after failing for 3 days', endpointId });
  }
}
