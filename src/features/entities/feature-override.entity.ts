import { Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';

import { Account } from '../../accounts/entities/account.entity.js';
import { TimestampColumn } from '../../database/timestamp-column.js';
import { Feature } from './feature.entity.js';

/**
 * An account's own grant of a feature, which wins over its plan's (docs/features.md "Grants"). Removing
 * the override deletes the row; a grant of `false` (or a limit of 0) is an override that refuses.
 */
@Entity({ name: 'feature_overrides' })
export class FeatureOverride {
  @ForeignKey(() => Account, { name: 'feature_overrides_account_id_fkey' })
  @PrimaryColumn({ name: 'account_id', type: 'bigint', primaryKeyConstraintName: 'feature_overrides_pkey' })
  accountId: string;

  @ForeignKey(() => Feature, { name: 'feature_overrides_feature_key_fkey' })
  @PrimaryColumn({
    name: 'feature_key',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'feature_overrides_pkey',
  })
  featureKey: string;

  /** The grant, of the feature's type's shape (src/features/grants.ts). */
  @Column({ name: 'grant_value', type: 'jsonb' })
  grant: unknown;

  @Column({ name: 'updated_by', type: 'varchar', length: 50 })
  updatedBy: string;

  @TimestampColumn('updated_at', { defaultNow: true })
  updatedAt: Date;
}
