import { Check, Column, Entity, ForeignKey, PrimaryGeneratedColumn, Unique } from 'typeorm';

import { TimestampColumn } from '../../database/timestamp-column.js';
import { Org } from './org.entity.js';
import { UserAccount } from './user-account.entity.js';

/** What pays: a user now, an organisation next (docs/money.md "The account"). */
export type AccountKind = 'user' | 'org';

/**
 * The money engine's account (migration 1732000024300): a surrogate key, its kind and its owner. Its
 * row is what the account lock (credits_lock_account_ids()) locks. Every user has one (a trigger on
 * user_accounts makes it); an organisation's is one more row of kind `org`, named by its `org_id`, so
 * user ids and org ids may be equal without meaning the same account.
 */
@Entity({ name: 'accounts' })
@Check('accounts_kind_check', `kind IN ('user', 'org')`)
@Check('accounts_owner_check', `(kind = 'user') = (user_id IS NOT NULL) AND (kind = 'org') = (org_id IS NOT NULL)`)
@Check('accounts_billing_currency_check', `billing_currency ~ '^[a-z]{3}$'`)
@Unique('accounts_user_id_key', ['userId'])
@Unique('accounts_org_id_key', ['orgId'])
// What a row carrying both an account and its owner references, so the two cannot disagree
// (account_prices, migration 1732007600000; subscriptions, purchases, promotion redemptions, usage
// records and streaming sessions, migration 1732008000000).
@Unique('accounts_account_id_user_id_key', ['accountId', 'userId'])
@Unique('accounts_account_id_org_id_key', ['accountId', 'orgId'])
// A user's usage record and streaming session reference it with their payer kind (migration 1732008000000).
@Unique('accounts_account_id_user_id_kind_key', ['accountId', 'userId', 'kind'])
export class Account {
  @PrimaryGeneratedColumn('identity', {
    name: 'account_id',
    type: 'bigint',
    generatedIdentity: 'ALWAYS',
    primaryKeyConstraintName: 'accounts_pkey',
  })
  accountId: string;

  @Column({ type: 'varchar', length: 10 })
  kind: AccountKind;

  /** The user whose account it is (kind `user`); null for an organisation's. */
  @ForeignKey(() => UserAccount, { name: 'accounts_user_id_fkey' })
  @Column({ name: 'user_id', type: 'varchar', length: 50, nullable: true })
  userId: string | null;

  @TimestampColumn('created_at', { defaultNow: true })
  createdAt: Date;

  /** The organisation whose account it is (kind `org`, migration 1732000024900); null for a user's. */
  @ForeignKey(() => Org, { name: 'accounts_org_id_fkey' })
  @Column({ name: 'org_id', type: 'varchar', length: 50, nullable: true })
  orgId: string | null;

  /**
   * The currency it pays in (docs/selling.md "Prices in several currencies"): null until its first paid
   * purchase, its first priced subscription or an admin sets it (migration 1732006200000).
   */
  @Column({ name: 'billing_currency', type: 'varchar', length: 3, nullable: true })
  billingCurrency: string | null;
}
