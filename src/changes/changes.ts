import { Inject, Injectable } from '@nestjs/common';

import { AuditService } from '../audit/audit.service.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { Transactions } from '../database/transactions.js';
import { EventsService } from '../events/events.service.js';

/**
 * What a service that changes state takes besides its own collaborators: the transaction a change
 * runs in, the audit entry and the outbox event it leaves in that same transaction, and the app's
 * clock that dates it (tests set it). One injectable for the four, so a service's constructor lists
 * what is particular to it.
 */
@Injectable()
export class Changes {
  constructor(
    @Inject(Transactions) readonly tx: Transactions,
    @Inject(AuditService) readonly audit: AuditService,
    @Inject(EventsService) readonly events: EventsService,
    @Inject(CLOCK) readonly clock: Clock,
  ) {}
}
