import { Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';

import { Transactions } from '../database/transactions.js';
import { EventsService } from '../events/events.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { type DueSession, StreamingSessionsRepository } from './streaming-sessions.repository.js';
import { StreamingSessionsService } from './streaming-sessions.service.js';

/** The expiry job settles at most this many sessions per pass (each in its own transaction). */
const EXPIRY_BATCH = 100;

/**
 * Abandoned sessions: one still active past STREAMING_SESSION_TTL_SECONDS is settled by the service
 * itself, charged its estimate (docs/money.md).
 */
@Injectable()
export class SessionExpiryJob {
  private readonly logger = new Logger('StreamingSessions');

  constructor(
    private readonly repository: StreamingSessionsRepository,
    private readonly tx: Transactions,
    private readonly sessions: StreamingSessionsService,
    private readonly metrics: MetricsService,
    private readonly events: EventsService,
  ) {}

  @Cron(CronExpression.EVERY_30_SECONDS, { name: 'streaming-sessions-expiry', waitForCompletion: true })
  expireJob(): Promise<void> {
    return this.metrics.runJob('streaming-sessions-expiry', async () => {
      const expired = await this.expireAbandoned();
      if (expired > 0) this.logger.log({ msg: 'abandoned streaming sessions expired', expired });
    });
  }

  /**
   * Settles every session still active past its `expires_at`: charged its estimate (never more than
   * was held), the rest released, one `chat-streaming-expired` usage record. Safe to run on several
   * instances at once: each session is locked with SKIP LOCKED in its own transaction and settled
   * only while still active. Returns how many sessions this call expired.
   */
  async expireAbandoned(): Promise<number> {
    let expired = 0;
    for (;;) {
      const due = await this.repository.dueForExpiry(EXPIRY_BATCH);
      let settledThisPass = 0;
      for (const candidate of due) {
        try {
          if (await this.expireOne(candidate)) settledThisPass++;
        } catch (error) {
          this.logger.warn({
            msg: 'could not expire streaming session',
            sessionId: candidate.session_id,
            err: error instanceof Error ? error.message : String(error),
          });
        }
      }
      expired += settledThisPass;
      // A short batch was the last one; a full batch that settled nothing is held by other workers.
      if (due.length < EXPIRY_BATCH || settledThisPass === 0) return expired;
    }
  }

  private expireOne(candidate: DueSession): Promise<boolean> {
    return this.tx.run(async (m) => {
      const settled = await this.sessions.expire(m, candidate);
      if (!settled) return false; // settled meanwhile, or another worker has it
      // In the settlement's transaction: no event without the settlement, none lost with it.
      await this.events.emit(m, 'session.expired', {
        userId: settled.user_id,
        sessionId: settled.session_id,
        charged: settled.actual_credits - settled.shortfall,
        ...(settled.org_id ? { orgId: settled.org_id } : {}),
      });
      return true;
    });
  }
}
