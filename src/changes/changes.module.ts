import { Module } from '@nestjs/common';

import { AuditModule } from '../audit/audit.module.js';
import { EventsModule } from '../events/events.module.js';
import { Changes } from './changes.js';

/** `Changes`: the transaction, audit log, outbox and clock a module's changes share. */
@Module({
  imports: [AuditModule, EventsModule],
  providers: [Changes],
  exports: [Changes],
})
export class ChangesModule {}
