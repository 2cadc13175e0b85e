import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';

import { cursorTimestampSql } from '../common/http/pagination.js';
import { WebhookEndpoint } from './entities/webhook-endpoint.entity.js';

export interface NewEndpoint {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  secretEncrypted: string;
  createdBy: string | null;
}

export type EndpointPatch = Partial<
  Pick<
    WebhookEndpoint,
    | 'url'
    | 'events'
    | 'description'
    | 'isActive'
    | 'disabledReason'
    | 'failingSince'
    | 'secretEncrypted'
    | 'previousSecretEncrypted'
    | 'previousSecretExpiresAt'
  >
>;

/** webhook_endpoints: plain rows through TypeORM; the keyset list in SQL. */
@Injectable()
export class WebhookEndpointsRepository {
  constructor(@InjectRepository(WebhookEndpoint) private readonly endpoints: Repository<WebhookEndpoint>) {}

  async insert(manager: EntityManager, row: NewEndpoint): Promise<WebhookEndpoint> {
    await manager.insert(WebhookEndpoint, row);
    return manager.findOneByOrFail(WebhookEndpoint, { id: row.id });
  }

  /**
   * `lock`: FOR NO KEY UPDATE, which does not conflict with the KEY SHARE lock that emit_event()'s
   * delivery insert takes on the endpoint (its foreign key): admin changes never hold up a money
   * transaction that emits an event, nor wait for one.
   */
  find(manager: EntityManager, id: string, lock = false): Promise<WebhookEndpoint | null> {
    return manager.findOne(WebhookEndpoint, {
      where: { id },
      ...(lock ? { lock: { mode: 'for_no_key_update' as const } } : {}),
    });
  }

  async update(manager: EntityManager, id: string, patch: EndpointPatch): Promise<WebhookEndpoint> {
    await manager.update(WebhookEndpoint, { id }, { ...patch, updatedAt: () => 'now()' });
    return manager.findOneByOrFail(WebhookEndpoint, { id });
  }

  async delete(manager: EntityManager, id: string): Promise<void> {
    await manager.delete(WebhookEndpoint, { id });
  }

  /** Newest first by (created_at, id); `tKey` is the row's cursor time. */
  async list(
    after: { t: string; id: string } | null,
    limit: number,
  ): Promise<Array<{ endpoint: WebhookEndpoint; tKey: string }>> {
    const query = this.endpoints
      .createQueryBuilder('w')
      .addSelect(cursorTimestampSql('w.created_at'), 't_key')
      .orderBy('w.created_at', 'DESC')
      .addOrderBy('w.id', 'DESC')
      .limit(limit + 1);
    if (after) query.where('(w.created_at, w.id) < (:t::timestamptz, :id::uuid)', { t: after.t, id: after.id });
    const { entities, raw } = await query.getRawAndEntities<{ t_key: string }>();
    return entities.map((endpoint, i) => ({ endpoint, tKey: raw[i].t_key }));
  }
}
