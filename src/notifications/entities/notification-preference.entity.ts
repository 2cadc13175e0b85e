import { Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';

import { UserAccount } from '../../accounts/entities/user-account.entity.js';
import { TimestampColumn } from '../../database/timestamp-column.js';

/** A user's choice for one kind of email (migration 1732000046000); no row: the default, on. */
@Entity({ name: 'notification_preferences' })
export class NotificationPreference {
  @ForeignKey(() => UserAccount, { name: 'notification_preferences_user_id_fkey' })
  @PrimaryColumn({
    name: 'user_id',
    type: 'varchar',
    length: 50,
    primaryKeyConstraintName: 'notification_preferences_pkey',
  })
  userId: string;

  @PrimaryColumn({ type: 'varchar', length: 50, primaryKeyConstraintName: 'notification_preferences_pkey' })
  kind: string;

  @Column({ type: 'boolean' })
  email: boolean;

  @TimestampColumn('updated_at', { defaultNow: true })
  updatedAt: Date;
}
