import { ApiProperty } from '@nestjs/swagger';

import { ApiInteger } from '../../common/validation/integers.js';
import { RECONCILE_PROBLEMS, type ReconcileMismatch } from '../../engine/credit-views.js';

export class ReconcileMismatchDto {
  @ApiProperty({
    enum: RECONCILE_PROBLEMS,
    example: 'remaining_mismatch',
    description:
      'remaining_mismatch: remaining ≠ total + Σ entries other than its grant (a transfer’s lot: its transfer_in); ' +
      'negative_remaining; grant_mismatch: not exactly one grant (transfer_in) of +total; hold_mismatch: an open hold ≠ its hold/release entries; rollover_mismatch: a rollover ' +
      'allocation ≠ the credits its rollover entries took from the period before; debt_mismatch: a user’s debt ≠ ' +
      'what overdraft entries borrowed, plus what debt entries made owed (purchase credits taken back after they ' +
      'were spent), minus what repay entries paid back; transfer_mismatch: a transfer allocation ≠ ' +
      'its lot, an allocation’s transfer_out entries ≠ the lots taken from it, or a transfer’s lots ≠ its credits; ' +
      'purchase_mismatch: a wholly refunded or charged-back purchase’s allocation still has credits',
  })
  problem: ReconcileMismatch['problem'];

  @ApiProperty({ type: String, nullable: true, example: 'alice', description: 'Null for an organisation’s account' })
  userId: string | null;

  @ApiProperty({ type: String, nullable: true, example: null, description: 'The organisation (null for a user’s)' })
  orgId: string | null;

  @ApiProperty({ type: String, nullable: true, example: '5b0f3a52-8d4e-4f7e-9c1a-2f1e3d4c5b6a' })
  allocationId: string | null;

  @ApiProperty({ type: String, nullable: true, example: null })
  sessionId: string | null;

  @ApiInteger({ example: 740, description: 'What the ledger says' })
  expected: number;

  @ApiInteger({ example: 750, description: 'What the row says' })
  actual: number;
}

export class ReconcileResponseDto {
  @ApiInteger({ example: 1200 })
  checkedAllocations: number;

  @ApiProperty({ type: [ReconcileMismatchDto] })
  mismatches: ReconcileMismatchDto[];
}
