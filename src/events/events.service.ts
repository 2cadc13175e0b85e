import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { ErasedPerson } from '../common/erasure.js';
import { decodeTimeCursor, type Page, toPage } from '../common/http/pagination.js';
import type { EventPayloads, EventType, EventView } from './event-types.js';
import { EventsRepository, toEventView } from './events.repository.js';

/**
 * The outbox's entry point. `emit` writes the event in the caller's transaction (pass the manager of
 * the transaction making the change): if it rolls back, the event is gone with it; once it commits,
 * the delivery workers are notified and send it to every subscribed endpoint.
 */
@Injectable()
export class EventsService {
  constructor(private readonly events: EventsRepository) {}

  /** Emits one event; returns its id. `user_id` is `data.userId` when the payload has one. */
  emit<T extends EventType>(manager: EntityManager, type: T, data: EventPayloads[T]): Promise<string> {
    const userId = 'userId' in data && typeof data.userId === 'string' ? data.userId : null;
    return this.events.emit(manager, type, userId, data);
  }

  /** An erasure: the person's email and username out of their own events' data (docs/erasure.md). */
  erase(manager: EntityManager, person: ErasedPerson): Promise<number> {
    return this.events.erase(manager, person);
  }

  async list(query: { type?: string; userId?: string; cursor?: string }, limit: number): Promise<Page<EventView>> {
    const after = decodeTimeCursor(query.cursor, 'uuid');
    const rows = await this.events.list({ type: query.type, userId: query.userId, after }, limit);
    return toPage(rows, limit, toEventView, (r) => ({ t: r.t_key, id: r.id }));
  }
}
