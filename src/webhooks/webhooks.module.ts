import { Module } from '@nestjs/common';

import { AuditModule } from '../audit/audit.module.js';
import { EventsModule } from '../events/events.module.js';
import { WebhookDeliveryWorker } from './delivery.worker.js';
import { WebhookResolver } from './webhook-runtime.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksService } from './webhooks.service.js';

/**
 * Webhook endpoints and the delivery worker: the rules, the routes, the secrets and the sending. The
 * events they carry, and the endpoint and delivery rows, are EventsModule's (its repositories).
 */
@Module({
  imports: [AuditModule, EventsModule],
  controllers: [WebhooksController],
  providers: [WebhooksService, WebhookDeliveryWorker, WebhookResolver],
  exports: [WebhookDeliveryWorker],
})
export class WebhooksModule {}
