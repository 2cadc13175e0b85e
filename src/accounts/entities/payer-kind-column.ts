import { Column } from 'typeorm';

/**
 * A usage record's or a streaming session's payer kind, generated from its `org_id` (migration
 * 1732008000000): `'user'` where its user pays, null where an organisation does (its `user_id` is then
 * the member who spent). No writer sets it; it is the third column of the key that ties a user's row
 * to that user's own account, `(account_id, user_id, payer_kind)` → `accounts (account_id, user_id,
 * kind)`, which an organisation's row skips (its tie is `(account_id, org_id)`).
 */
export function PayerKindColumn(): PropertyDecorator {
  return Column({
    name: 'payer_kind',
    type: 'varchar',
    length: 10,
    nullable: true,
    generatedType: 'STORED',
    asExpression: `CASE WHEN org_id IS NULL THEN 'user' END`,
    insert: false,
    update: false,
    select: false,
  });
}
