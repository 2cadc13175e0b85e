import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';

import { Org } from '../../accounts/entities/org.entity.js';
import { UserAccount } from '../../accounts/entities/user-account.entity.js';
import { TimestampColumn } from '../../database/timestamp-column.js';
import { Plan } from './plan.entity.js';

/**
 * A user's (or an organisation's) subscription to a plan, anchored at `startsAt`. `nextGrantAt` is the start of the next
 * period to grant (the renewal job's due list). Ended subscriptions stay as history: the last one
 * ended tells a re-created subscription which period it is in (no new allowance by re-subscribing).
 */
@Entity({ name: 'subscriptions' })
@Index('subscriptions_user_live_idx', ['userId'], { unique: true, where: 'ended_at IS NULL' })
@Index('subscriptions_due_idx', ['nextGrantAt'], { where: 'ended_at IS NULL' })
@Index('subscriptions_plan_idx', ['planId'], { where: 'ended_at IS NULL' })
@Index('subscriptions_user_ended_idx', ['userId', 'endedAt'])
@Index('subscriptions_org_live_idx', ['orgId'], { unique: true, where: 'ended_at IS NULL' })
@Index('subscriptions_org_ended_idx', ['orgId', 'endedAt'])
@Check('subscriptions_owner_check', '(user_id IS NULL) <> (org_id IS NULL)')
export class Subscription {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'subscriptions_pkey' })
  id: string;

  @ForeignKey(() => UserAccount, { name: 'subscriptions_user_id_fkey' })
  /** The subscribed user; null for an organisation's subscription (migration 1732000031100). */
  @Column({ name: 'user_id', type: 'varchar', length: 50, nullable: true })
  userId: string | null;

  @ForeignKey(() => Plan, { name: 'subscriptions_plan_id_fkey' })
  @Column({ name: 'plan_id', type: 'varchar', length: 50 })
  planId: string;

  @TimestampColumn('starts_at')
  startsAt: Date;

  @TimestampColumn('next_grant_at')
  nextGrantAt: Date;

  @Column({ name: 'created_by', type: 'varchar', length: 50 })
  createdBy: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @TimestampColumn('ended_at', { nullable: true })
  endedAt: Date | null;

  @Column({ name: 'ended_by', type: 'varchar', length: 50, nullable: true })
  endedBy: string | null;

  /** The subscribed organisation; null for a user's subscription (migration 1732000031100). */
  @ForeignKey(() => Org, { name: 'subscriptions_org_id_fkey' })
  @Column({ name: 'org_id', type: 'varchar', length: 50, nullable: true })
  orgId: string | null;
}
