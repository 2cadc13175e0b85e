import { ApiProperty } from '@nestjs/swagger';

export class ReconcileMismatchDto {
  @ApiProperty({
    enum: ['remaining_mismatch', 'negative_remaining', 'grant_mismatch', 'hold_mismatch'],
    example: 'remaining_mismatch',
  })
  problem: 'remaining_mismatch' | 'negative_remaining' | 'grant_mismatch' | 'hold_mismatch';

  @ApiProperty({ example: 'alice' })
  userId: string;

  @ApiProperty({ type: String, nullable: true, example: '5b0f3a52-8d4e-4f7e-9c1a-2f1e3d4c5b6a' })
  allocationId: string | null;

  @ApiProperty({ type: String, nullable: true, example: null })
  sessionId: string | null;

  @ApiProperty({ example: 740, description: 'What the ledger says' })
  expected: number;

  @ApiProperty({ example: 750, description: 'What the row says' })
  actual: number;
}

export class ReconcileResponseDto {
  @ApiProperty({ example: 1200 })
  checkedAllocations: number;

  @ApiProperty({ type: [ReconcileMismatchDto] })
  mismatches: ReconcileMismatchDto[];
}
