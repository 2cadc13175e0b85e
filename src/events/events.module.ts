import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { EventRecord } from './entities/event.entity.js';
import { WebhookDelivery } from './entities/webhook-delivery.entity.js';
import { WebhookEndpoint } from './entities/webhook-endpoint.entity.js';
import { EventRetentionJob } from './event-retention.job.js';
import { EventsController } from './events.controller.js';
import { EventsRepository } from './events.repository.js';
import { EventsService } from './events.service.js';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository.js';
import { WebhookEndpointsRepository } from './webhook-endpoints.repository.js';

/**
 * The outbox: other modules import it and call `EventsService.emit(manager, type, data)` inside the
 * transaction of the change (or `SELECT emit_event(...)` from their own SQL). Its retention job
 * deletes old events. It owns the webhook tables its `emit_event()` fans events out to, and their
 * repositories, which the webhooks module calls for every read and write of them.
 */
@Module({
  imports: [TypeOrmModule.forFeature([EventRecord, WebhookEndpoint, WebhookDelivery])],
  controllers: [EventsController],
  providers: [
    EventsRepository,
    EventsService,
    EventRetentionJob,
    WebhookEndpointsRepository,
    WebhookDeliveriesRepository,
  ],
  exports: [EventsService, WebhookEndpointsRepository, WebhookDeliveriesRepository],
})
export class EventsModule {}
