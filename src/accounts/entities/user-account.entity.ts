import { Check, Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

import type { Role } from '../../auth/roles.js';
import { TimestampColumn } from '../../database/timestamp-column.js';

@Entity({ name: 'user_accounts' })
@Check('user_accounts_role_check', `role IN ('user', 'supervisor', 'admin')`)
@Index('user_accounts_created_idx', ['createdAt', 'userId'])
// lower(email): an expression index TypeORM cannot describe; the migration keeps it,
// test/schema-drift.e2e-spec.ts checks it.
@Index('user_accounts_email_idx', { synchronize: false })
export class UserAccount {
  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 50, primaryKeyConstraintName: 'user_accounts_pkey' })
  userId: string;

  @Column({ type: 'varchar', length: 255, nullable: true })
  email: string | null;

  @Column({ type: 'varchar', length: 255, nullable: true })
  username: string | null;

  @Column({ type: 'varchar', length: 20, default: 'user' })
  role: Role;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  /** When the person was erased (docs/erasure.md): email and username are null from then on. */
  @Index('user_accounts_erased_idx', { where: 'erased_at IS NOT NULL' })
  @TimestampColumn('erased_at', { nullable: true })
  erasedAt: Date | null;
}
