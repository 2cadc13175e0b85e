import { Inject, Injectable } from '@nestjs/common';

import { CLOCK, type Clock } from '../common/clock.js';
import { HourlyCleanupJob, inBatches } from '../metrics/batch-jobs.js';
import { PortalSessionsRepository } from './portal-sessions.repository.js';

/**
 * Hourly: deletes the portal sessions that are over (ended or expired), in batches; the rows of
 * several instances' runs never meet (`FOR UPDATE SKIP LOCKED`). Without it the table only grows.
 */
@Injectable()
export class PortalSessionsJob extends HourlyCleanupJob({
  name: 'portal-sessions-cleanup',
  context: 'Portal',
  msg: 'deleted portal sessions that are over',
  waitForCompletion: true,
}) {
  @Inject(PortalSessionsRepository) private readonly repo: PortalSessionsRepository;
  @Inject(CLOCK) private readonly clock: Clock;

  /** Deletes every session over at this instant; returns how many. */
  cleanup(): Promise<number> {
    const now = new Date(this.clock.now());
    return inBatches((batch) => this.repo.deleteOver(now, batch));
  }
}
