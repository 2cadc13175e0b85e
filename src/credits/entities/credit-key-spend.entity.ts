import { Check, Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';

/** What a budgeted API key spent in its current period (migration 1732000009000). */
@Entity({ name: 'credit_key_spend' })
@Check('credit_key_spend_spent_check', `spent >= 0`)
export class CreditKeySpend {
  // By entity name, not class: credits must not import the api-keys module (which imports credits).
  @ForeignKey('ApiKey', { name: 'credit_key_spend_api_key_id_fkey', onDelete: 'CASCADE' })
  @PrimaryColumn({ name: 'api_key_id', type: 'uuid', primaryKeyConstraintName: 'credit_key_spend_pkey' })
  apiKeyId: string;

  @Column({ name: 'period_start', type: 'timestamptz' })
  periodStart: Date;

  @Column({ type: 'bigint', default: 0 })
  spent: string;
}
