import { Check, Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';

import type { OrgRole, SpendLimitPeriod } from '../org-roles.js';
import { Org } from './org.entity.js';
import { UserAccount } from './user-account.entity.js';

/**
 * A membership (migration 1732000030000): the member's role and spend limit. The limit is a counter
 * over the org's pool, never a second wallet. A removed member keeps the row with `removedAt`.
 */
@Entity({ name: 'org_members' })
@Check('org_members_role_check', `role IN ('owner', 'admin', 'billing', 'member')`)
@Check('org_members_spend_limit_check', `spend_limit >= 0`)
@Check('org_members_spend_limit_period_check', `spend_limit_period IN ('day', 'week', 'month')`)
@Check('org_members_spend_limit_pair_check', `(spend_limit IS NULL) = (spend_limit_period IS NULL)`)
@Index('org_members_user_active_idx', ['userId'], { where: 'removed_at IS NULL' })
export class OrgMember {
  @ForeignKey(() => Org, { name: 'org_members_org_id_fkey' })
  @PrimaryColumn({ name: 'org_id', type: 'varchar', length: 50, primaryKeyConstraintName: 'org_members_pkey' })
  orgId: string;

  @ForeignKey(() => UserAccount, { name: 'org_members_user_id_fkey' })
  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 50, primaryKeyConstraintName: 'org_members_pkey' })
  userId: string;

  @Column({ type: 'varchar', length: 10 })
  role: OrgRole;

  /** Credits the member may spend from the org per period; null: no limit. */
  @Column({ name: 'spend_limit', type: 'bigint', nullable: true })
  spendLimit: string | null;

  @Column({ name: 'spend_limit_period', type: 'varchar', length: 5, nullable: true })
  spendLimitPeriod: SpendLimitPeriod | null;

  @Column({ name: 'joined_at', type: 'timestamptz', default: () => 'now()' })
  joinedAt: Date;

  @Column({ name: 'removed_at', type: 'timestamptz', nullable: true })
  removedAt: Date | null;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;

  /** The start (a UTC day) of the period org.member_limit_reached was last sent for (migration 1732000032000). */
  @Column({ name: 'limit_reached_period', type: 'date', nullable: true })
  limitReachedPeriod: string | null;
}
