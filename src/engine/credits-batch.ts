import {
  type DomainError,
  InsufficientCreditsError,
  KeyLimitExceededError,
  MemberLimitExceededError,
  NotAMemberError,
  NotFoundError,
  SpendRateLimitedError,
} from '../common/errors/domain-error.js';
import type { BatchTakeRow } from './credits-batch.repository.js';
import { budgetExceeded } from './credits-results.js';

/** What happened to one event of a batch take. */
export type BatchOutcome =
  | {
      status: 'created';
      usageRecordId: string;
      balanceAfter: number;
      collected: number;
      debt: number;
      /** The outcome row, with the caller's `answer` columns. */
      row: BatchTakeRow;
    }
  | { status: 'duplicate'; usageRecordId: string | null }
  /** An event whose Idempotency-Key its caller's `events` part found running, answered or another request's. */
  | { status: 'keyed'; key: 'in_flight' | 'replayed' | 'key_reused' }
  | { status: 'refused'; error: DomainError };

/** A row of the batch take statement as an outcome; a refusal carries the error the single route would throw. */
export function toBatchOutcome(row: BatchTakeRow, amount: number): BatchOutcome {
  const balance = Number(row.out_balance);
  switch (row.out_status) {
    case 'ok':
      return {
        status: 'created',
        usageRecordId: row.out_usage_record_id!,
        balanceAfter: balance,
        collected: Number(row.out_collected),
        debt: Number(row.out_debt),
        row,
      };
    case 'duplicate':
      return { status: 'duplicate', usageRecordId: row.out_usage_record_id };
    case 'in_flight':
    case 'replayed':
    case 'key_reused':
      return { status: 'keyed', key: row.out_status };
    case 'unknown_user':
    case 'no_account':
      return { status: 'refused', error: new NotFoundError('User') };
    case 'insufficient':
      return { status: 'refused', error: new InsufficientCreditsError(amount, balance) };
    case 'key_limit':
      return { status: 'refused', error: new KeyLimitExceededError(amount) };
    // The batch answers an event's refusal by its code: the member's limit state is the single route's.
    case 'member_limit':
      return { status: 'refused', error: new MemberLimitExceededError(amount, 0, 0, '') };
    case 'not_a_member':
      return { status: 'refused', error: new NotAMemberError('', '') };
    case 'rate_limited':
      return { status: 'refused', error: new SpendRateLimitedError(row.out_retry_after ?? 3600) };
    case 'budget_exceeded':
      return { status: 'refused', error: budgetExceeded(row.out_parts) };
  }
}
