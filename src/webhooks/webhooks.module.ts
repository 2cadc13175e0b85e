import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { AuditModule } from '../audit/audit.module.js';
import { WebhookDelivery } from '../events/entities/webhook-delivery.entity.js';
import { WebhookEndpoint } from '../events/entities/webhook-endpoint.entity.js';
import { EventsModule } from '../events/events.module.js';
import { WebhookDeliveryWorker } from './delivery.worker.js';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository.js';
import { WebhookEndpointsRepository } from './webhook-endpoints.repository.js';
import { WebhookResolver } from './webhook-runtime.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksService } from './webhooks.service.js';

/** Webhook endpoints and the delivery worker; the events they carry come from EventsModule's outbox. */
@Module({
  imports: [AuditModule, EventsModule, TypeOrmModule.forFeature([WebhookEndpoint, WebhookDelivery])],
  controllers: [WebhooksController],
  providers: [
    WebhookEndpointsRepository,
    WebhookDeliveriesRepository,
    WebhooksService,
    WebhookDeliveryWorker,
    WebhookResolver,
  ],
  exports: [WebhookDeliveryWorker, WebhookDeliveriesRepository],
})
export class WebhooksModule {}
