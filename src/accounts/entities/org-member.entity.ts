import { Check, Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';

import { TimestampColumn } from '../../database/timestamp-column.js';
import type { OrgRole } from '../org-roles.js';
import { Org } from './org.entity.js';
import { UserAccount } from './user-account.entity.js';

/**
 * A membership (migration 1732000030000): the member's role. Their spend limit is a cap of the credits
 * module (CreditAccountsService): a counter over the org's pool, never a second wallet. A removed member keeps
 * the row with `removedAt`.
 */
@Entity({ name: 'org_members' })
@Check('org_members_role_check', `role IN ('owner', 'admin', 'billing', 'member')`)
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

  @TimestampColumn('joined_at', { defaultNow: true })
  joinedAt: Date;

  @TimestampColumn('removed_at', { nullable: true })
  removedAt: Date | null;

  @TimestampColumn('updated_at', { defaultNow: true })
  updatedAt: Date;
}
