import { Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';

import { OrgMember } from './org-member.entity.js';

/**
 * What a member spent from their organisation on one UTC day (migration 1732000030100), held credits
 * of open sessions included. A member limit's period is a sum of these rows: a counter over the org's
 * pool, never a wallet.
 */
@Entity({ name: 'org_member_spend' })
@ForeignKey(() => OrgMember, ['orgId', 'userId'], ['orgId', 'userId'], { name: 'org_member_spend_member_fkey' })
export class OrgMemberSpend {
  @PrimaryColumn({ name: 'org_id', type: 'varchar', length: 50, primaryKeyConstraintName: 'org_member_spend_pkey' })
  orgId: string;

  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 50, primaryKeyConstraintName: 'org_member_spend_pkey' })
  userId: string;

  @PrimaryColumn({ type: 'date', primaryKeyConstraintName: 'org_member_spend_pkey' })
  day: string;

  @Column({ type: 'bigint', default: 0 })
  spent: string;
}
