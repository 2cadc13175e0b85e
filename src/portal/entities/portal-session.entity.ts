import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';

import { Org } from '../../accounts/entities/org.entity.js';
import { UserAccount } from '../../accounts/entities/user-account.entity.js';
import { TimestampColumn } from '../../database/timestamp-column.js';

export const PORTAL_SCOPES = ['full', 'read'] as const;
export type PortalScope = (typeof PORTAL_SCOPES)[number];

/**
 * A portal session: a user's token limited to one account (theirs, or with `orgId` the org's), minted
 * by a service principal. Only the token's SHA-256 digest is stored, as for API keys.
 */
@Entity({ name: 'portal_sessions' })
@Check('portal_sessions_token_hash_length', `octet_length(token_hash) = 32`)
@Check('portal_sessions_scope_check', `scope IN ('full', 'read')`)
export class PortalSession {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'portal_sessions_pkey' })
  id: string;

  @Index('portal_sessions_token_hash_idx', { unique: true })
  @Column({ name: 'token_hash', type: 'bytea' })
  tokenHash: Buffer;

  // An erasure ends the person's sessions through it (docs/erasure.md).
  @Index('portal_sessions_user_idx')
  @ForeignKey(() => UserAccount, { name: 'portal_sessions_user_id_fkey', onDelete: 'CASCADE' })
  @Column({ name: 'user_id', type: 'varchar', length: 50 })
  userId: string;

  @ForeignKey(() => Org, { name: 'portal_sessions_org_id_fkey', onDelete: 'CASCADE' })
  @Column({ name: 'org_id', type: 'varchar', length: 50, nullable: true })
  orgId: string | null;

  /** The service principal that minted it (an admin, or a service key's owner) and its key, if any. */
  @Column({ name: 'created_by', type: 'varchar', length: 50 })
  createdBy: string;

  @Column({ name: 'created_by_key_id', type: 'uuid', nullable: true })
  createdByKeyId: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Index('portal_sessions_expires_idx')
  @TimestampColumn('expires_at')
  expiresAt: Date;

  @TimestampColumn('ended_at', { nullable: true })
  endedAt: Date | null;

  /** `full`, or `read`: the account's reads only (what the embeddable elements need). */
  @Column({ type: 'varchar', length: 8, default: 'full' })
  scope: PortalScope;
}
