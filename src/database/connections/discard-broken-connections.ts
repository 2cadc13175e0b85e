import { type AfterQueryEvent, type EntitySubscriberInterface, EventSubscriber, type QueryRunner } from 'typeorm';

import { connectionProblem } from '../../common/errors/connection-errors.js';

type PostgresRunner = QueryRunner & { releasePostgresConnection?: (err?: unknown) => Promise<void> };

/**
 * A statement that failed because its connection is going away hands that connection back to the
 * pool WITH the error, so pg-pool destroys it. PostgreSQL sends a terminated backend's FATAL error
 * before it closes the socket, and TypeORM released the client as healthy in between: the next
 * request waiting for the pool was lent the dead connection and answered 503 as well.
 */
@EventSubscriber()
export class DiscardBrokenConnections implements EntitySubscriberInterface {
  afterQuery(event: AfterQueryEvent): void {
    if (event.error === undefined || connectionProblem(event.error) === null) return;
    // Synchronous up to the pool's release, so it happens before the error reaches the caller.
    void (event.queryRunner as PostgresRunner).releasePostgresConnection?.(event.error);
  }
}
