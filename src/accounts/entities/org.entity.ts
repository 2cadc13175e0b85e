import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** An organisation (migration 1732000030000): one more account of the engine, opened with its row. */
@Entity({ name: 'orgs' })
export class Org {
  @PrimaryColumn({ name: 'org_id', type: 'varchar', length: 50, primaryKeyConstraintName: 'orgs_pkey' })
  orgId: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  /** The staff member (or service) that created it. */
  @Column({ name: 'created_by', type: 'varchar', length: 50 })
  createdBy: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** The models it may meter (exact ids, or prefixes ending in `*`); null: every model (docs/pricing.md). */
  @Column({ type: 'text', array: true, nullable: true })
  models: string[] | null;
}
