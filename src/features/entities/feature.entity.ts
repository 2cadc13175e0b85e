import { Check, Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

import type { FeatureType } from '../grants.js';

/** Something a plan may include (docs/features.md): a switch, a metered allowance or a setting. */
@Entity({ name: 'features' })
@Check('features_key_check', `feature_key ~ '^[a-z0-9_.-]{1,64}$'`)
@Check('features_type_check', `type IN ('boolean', 'metered', 'config')`)
export class Feature {
  @PrimaryColumn({ name: 'feature_key', type: 'varchar', length: 64, primaryKeyConstraintName: 'features_pkey' })
  featureKey: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  /** Fixed at creation: every grant of the feature has this type's shape. */
  @Column({ type: 'varchar', length: 8 })
  type: FeatureType;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
