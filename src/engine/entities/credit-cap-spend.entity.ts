import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * What a cap's subject spent, one bucket per period start (migration 1732000055000): a budgeted API
 * key's bucket is its budget's period (`total`: one from -infinity), an organisation member's is a UTC
 * day, held credits of open sessions included. The one spend counter of every cap, written and read
 * only by the credits module's functions (credit_cap_spend_add(), credit_cap_spent()): a counter over
 * the payer's pool, never a wallet.
 */
@Entity({ name: 'credit_cap_spend' })
@Check('credit_cap_spend_subject_kind_check', `subject_kind::text = ANY ('{key,member,feature}'::text[])`)
@Check('credit_cap_spend_spent_check', `spent >= 0`)
export class CreditCapSpend {
  /**
   * `key` (subjectId: the API key's id), `member` (subjectId: the member's user id) or `feature`
   * (subjectId: the feature's key; its bucket is its grant's period, `lifetime` one from -infinity).
   * A budget by scope keeps its counter on its own row (credit_budgets.spent).
   */
  @PrimaryColumn({
    name: 'subject_kind',
    type: 'varchar',
    length: 7,
    primaryKeyConstraintName: 'credit_cap_spend_pkey',
  })
  subjectKind: 'key' | 'member' | 'feature';

  @PrimaryColumn({ name: 'subject_id', type: 'varchar', length: 64, primaryKeyConstraintName: 'credit_cap_spend_pkey' })
  subjectId: string;

  /** The account the subject spends from (a member: their organisation's); 0 for a key, whose budget spans every account it charges. */
  @PrimaryColumn({ name: 'account_id', type: 'bigint', primaryKeyConstraintName: 'credit_cap_spend_pkey' })
  accountId: string;

  @PrimaryColumn({ name: 'period_start', type: 'timestamptz', primaryKeyConstraintName: 'credit_cap_spend_pkey' })
  periodStart: Date;

  @Column({ type: 'bigint', default: 0 })
  spent: string;
}
