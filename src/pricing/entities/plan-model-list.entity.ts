import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';

import { Account } from '../../accounts/entities/account.entity.js';

/**
 * The plan of each account with a live subscription and the models that plan allows (docs/pricing.md
 * "Model entitlements"): what the metering routes check a model against beside the org's own list.
 * Pricing keeps it, below the plans module that decides it, because pricing's cache is read on every
 * metered write and may not read a table above it; the plans module writes it through
 * `PricingService` in the transaction that changes a subscription or a plan's `models`. One row per
 * account (an account has at most one live subscription).
 */
@Entity({ name: 'pricing_plan_model_lists' })
@Index('pricing_plan_model_lists_plan_idx', ['planId'])
export class PlanModelList {
  @ForeignKey(() => Account, { name: 'pricing_plan_model_lists_account_id_fkey' })
  @PrimaryColumn({ name: 'account_id', type: 'bigint', primaryKeyConstraintName: 'pricing_plan_model_lists_pkey' })
  accountId: string;

  /** The live subscription's plan, by id only: a change of its `models` rewrites every row naming it. */
  @Column({ name: 'plan_id', type: 'varchar', length: 50 })
  planId: string;

  /** The plan's list (exact ids, or prefixes ending in `*`); null: every model. */
  @Column({ type: 'text', array: true, nullable: true })
  models: string[] | null;
}
