import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';

import { UserAccount } from '../../accounts/entities/user-account.entity.js';
import type { Scope } from '../../auth/roles.js';
import { TimestampColumn } from '../../database/timestamp-column.js';

/** An API key as stored: never the key itself, only its SHA-256 digest and a display prefix. */
@Entity({ name: 'api_keys' })
@Check('api_keys_key_hash_length', `octet_length(key_hash) = 32`)
// (user_id, created_at DESC, id DESC): descending keys TypeORM cannot describe; the migration keeps it,
// test/schema-drift.e2e-spec.ts checks it.
@Index('api_keys_user_idx', { synchronize: false })
// A key of a membership (migration 1732000032000): its creator is (was) a member of the org it charges.
@ForeignKey('OrgMember', ['orgId', 'userId'], ['orgId', 'userId'], { name: 'api_keys_org_member_fkey' })
export class ApiKey {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'api_keys_pkey' })
  id: string;

  @ForeignKey(() => UserAccount, { name: 'api_keys_user_id_fkey', onDelete: 'CASCADE' })
  @Column({ name: 'user_id', type: 'varchar', length: 50 })
  userId: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Index('api_keys_key_hash_idx', { unique: true })
  @Column({ name: 'key_hash', type: 'bytea' })
  keyHash: Buffer;

  @Column({ type: 'varchar', length: 32 })
  prefix: string;

  @Column({ type: 'text', array: true, default: () => `'{}'` })
  permissions: Scope[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @TimestampColumn('expires_at', { nullable: true })
  expiresAt: Date | null;

  @TimestampColumn('revoked_at', { nullable: true })
  revokedAt: Date | null;

  @TimestampColumn('last_used', { nullable: true })
  lastUsed: Date | null;

  /** The organisation the key charges on behalf of its creator (null: the creator's own account). */
  @Column({ name: 'org_id', type: 'varchar', length: 50, nullable: true })
  orgId: string | null;

  /** The models it may meter (exact ids, or prefixes ending in `*`); null: every model (docs/pricing.md). */
  @Column({ type: 'text', array: true, nullable: true })
  models: string[] | null;

  /**
   * The portal session it was created in (null: not through the portal). A plain id, no foreign key:
   * the session's row is deleted once it is over, the key still names it. Ending the session revokes it.
   */
  @Index('api_keys_portal_session_idx', { where: 'portal_session_id IS NOT NULL' })
  @Column({ name: 'portal_session_id', type: 'uuid', nullable: true })
  portalSessionId: string | null;
}

/** A key's budget periods (its budget is the engine's cap, CreditAccountsService). */
export const KEY_LIMIT_PERIODS = ['day', 'week', 'month', 'total'] as const;
export type KeyLimitPeriod = (typeof KEY_LIMIT_PERIODS)[number];
