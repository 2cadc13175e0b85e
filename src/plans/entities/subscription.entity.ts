import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';

import { Account } from '../../accounts/entities/account.entity.js';
import { TimestampColumn } from '../../database/timestamp-column.js';
import { Plan } from './plan.entity.js';

/**
 * A user's (or an organisation's) subscription to a plan, anchored at `startsAt`, with the
 * subscriber's account (`accountId`). `nextGrantAt` is the start of the next
 * period to grant (the renewal job's due list). Ended subscriptions stay as history: the last one
 * ended tells a re-created subscription which period it is in (no new allowance by re-subscribing).
 */
@Entity({ name: 'subscriptions' })
// One live subscription an account, read by the account it carries (migration 1732007800000).
@Index('subscriptions_account_live_idx', ['accountId'], { unique: true, where: 'ended_at IS NULL' })
@Index('subscriptions_due_idx', ['nextGrantAt'], { where: 'ended_at IS NULL' })
@Index('subscriptions_plan_idx', ['planId'], { where: 'ended_at IS NULL' })
@Index('subscriptions_account_ended_idx', ['accountId', 'endedAt'])
@Check('subscriptions_owner_check', '(user_id IS NULL) <> (org_id IS NULL)')
@Check(
  'subscriptions_scheduled_check',
  `(scheduled_plan_id IS NULL) = (scheduled_at IS NULL)
          AND (scheduled_plan_id IS NULL) = (scheduled_allowance IS NULL)
          AND (scheduled_plan_id IS NULL) = (scheduled_anchor IS NULL)`,
)
@Check(
  'subscriptions_scheduled_options_check',
  `scheduled_allowance::text = ANY ('{difference,prorated,full}'::text[])
          AND scheduled_anchor::text = ANY ('{keep,restart}'::text[])`,
)
// The payer ties (migration 1732008000000): the account is its owner's, the user's or the organisation's.
@ForeignKey(() => Account, ['accountId', 'userId'], ['accountId', 'userId'], {
  name: 'subscriptions_account_user_fkey',
})
@ForeignKey(() => Account, ['accountId', 'orgId'], ['accountId', 'orgId'], { name: 'subscriptions_account_org_fkey' })
export class Subscription {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'subscriptions_pkey' })
  id: string;

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
  @Column({ name: 'org_id', type: 'varchar', length: 50, nullable: true })
  orgId: string | null;

  /**
   * A change scheduled for the period's end (`timing: "period_end"`, migration 1732001600000): the
   * plan, the instant (the end of the period in progress when it was scheduled) and the options the
   * PUT named (the anchor decides how the job applies it). All or none.
   */
  @ForeignKey(() => Plan, { name: 'subscriptions_scheduled_plan_id_fkey' })
  @Column({ name: 'scheduled_plan_id', type: 'varchar', length: 50, nullable: true })
  scheduledPlanId: string | null;

  @TimestampColumn('scheduled_at', { nullable: true })
  scheduledAt: Date | null;

  @Column({ name: 'scheduled_allowance', type: 'varchar', length: 10, nullable: true })
  scheduledAllowance: 'difference' | 'prorated' | 'full' | null;

  @Column({ name: 'scheduled_anchor', type: 'varchar', length: 7, nullable: true })
  scheduledAnchor: 'keep' | 'restart' | null;

  /**
   * The subscriber's account (the user's, or the organisation's), written with the row by the PUT
   * that locked it; the renewal job locks and grants to it (migration 1732003400000).
   */
  @Column({ name: 'account_id', type: 'bigint' })
  accountId: string;
}
