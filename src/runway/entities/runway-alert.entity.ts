import { Check, Entity, ForeignKey, PrimaryColumn } from 'typeorm';

import { Account } from '../../accounts/entities/account.entity.js';
import { TimestampColumn } from '../../database/timestamp-column.js';

/**
 * A `credits.runway` alert given (migration 1732001700000): its key is the promise, once per account,
 * threshold (`days` of RUNWAY_ALERT_DAYS) and run-out day (UTC), so two instances running the alert
 * job at once insert one row and emit one event. Rows whose run-out day has passed are deleted.
 */
@Entity({ name: 'runway_alerts' })
@Check('runway_alerts_days_check', `days >= 1`)
export class RunwayAlert {
  @ForeignKey(() => Account, { name: 'runway_alerts_account_id_fkey' })
  @PrimaryColumn({ name: 'account_id', type: 'bigint', primaryKeyConstraintName: 'runway_alerts_pkey' })
  accountId: string;

  @PrimaryColumn({ type: 'integer', primaryKeyConstraintName: 'runway_alerts_pkey' })
  days: number;

  @PrimaryColumn({ name: 'runs_out_on', type: 'date', primaryKeyConstraintName: 'runway_alerts_pkey' })
  runsOutOn: string;

  @TimestampColumn('created_at', { defaultNow: true })
  createdAt: Date;
}
