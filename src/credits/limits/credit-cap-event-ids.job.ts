import { Inject, Injectable } from '@nestjs/common';

import { Transactions } from '../../database/transactions.js';
import { CreditAccountsService } from '../../engine/credit-accounts.service.js';
import { HourlyCleanupJob, inBatches } from '../../metrics/batch-jobs.js';

/** A consuming check's eventId is kept at least 35 days (docs/features.md "Checks"). */
export const CAP_EVENT_ID_RETENTION_DAYS = 35;

/** Hourly: deletes kept check answers past their retention, in batches (safe with several instances). */
@Injectable()
export class CreditCapEventIdsJob extends HourlyCleanupJob({
  name: 'credit-cap-event-ids-cleanup',
  context: 'Credits',
  msg: 'deleted old check event ids',
}) {
  @Inject(CreditAccountsService) private readonly accounts: CreditAccountsService;
  @Inject(Transactions) private readonly tx: Transactions;

  /** Deletes every kept answer older than the retention; returns how many. */
  cleanup(): Promise<number> {
    const m = this.tx.statementManager;
    return inBatches((batch) => this.accounts.forgetCapEventIds(m, CAP_EVENT_ID_RETENTION_DAYS, batch));
  }
}
