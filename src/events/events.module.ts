import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { EventRecord } from './entities/event.entity.js';
import { EventRetentionJob } from './event-retention.job.js';
import { EventsController } from './events.controller.js';
import { EventsRepository } from './events.repository.js';
import { EventsService } from './events.service.js';

/**
 * The outbox: other modules import it and call `EventsService.emit(manager, type, data)` inside the
 * transaction of the change (or `SELECT emit_event(...)` from their own SQL). Its retention job
 * deletes old events.
 */
@Module({
  imports: [TypeOrmModule.forFeature([EventRecord])],
  controllers: [EventsController],
  providers: [EventsRepository, EventsService, EventRetentionJob],
  exports: [EventsService],
})
export class EventsModule {}
