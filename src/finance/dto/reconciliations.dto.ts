import { ApiProperty } from '@nestjs/swagger';

import { PageQueryDto, PageResponseDto } from '../../common/http/pagination.js';
import { ApiInteger } from '../../common/validation/integers.js';

export class ListReconciliationsQueryDto extends PageQueryDto {}

export class MismatchedItemDto {
  @ApiProperty({ example: 'txn_1QAbCdEfGhIjKlMn' })
  balanceTransactionId: string;

  @ApiProperty({ example: 'charge', description: '`charge`, `refund` or `dispute`' })
  category: string;

  @ApiProperty({ format: 'uuid', example: '0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a5b' })
  purchaseId: string;

  @ApiProperty({
    example: '10.00',
    description:
      'A charge: the purchase’s amount; refunds: its refunded amount; a dispute: `charged_back` (a lost dispute)',
  })
  expected: string;

  @ApiProperty({
    example: '9.00',
    description: 'A charge: the row’s gross; refunds: −Σ gross of the purchase’s refund rows; a dispute: its status',
  })
  got: string;
}

export class UnknownItemDto {
  @ApiProperty({ example: 'txn_1QZyXwVuTsRqPoNm' })
  balanceTransactionId: string;

  @ApiProperty({ example: 'charge' })
  category: string;

  @ApiProperty({ example: '25.00' })
  gross: string;

  @ApiProperty({ type: String, nullable: true, example: 'pi_3QNobodyKnowsThis' })
  paymentIntentId: string | null;
}

export class MissingItemDto {
  @ApiProperty({ format: 'uuid', example: '0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a5c' })
  purchaseId: string;

  @ApiProperty({ example: '10.00' })
  amount: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-03T09:15:00.000Z' })
  paidAt: string;
}

export class ReconciliationResponseDto {
  @ApiProperty({ format: 'uuid', example: '0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a60' })
  id: string;

  @ApiProperty({
    type: [String],
    example: ['po_1QPayoutNovember3'],
    description: 'The automatic payouts the rows belong to',
  })
  payouts: string[];

  @ApiInteger({ example: 6, description: 'Rows of the report' })
  rows: number;

  @ApiInteger({ example: 3, description: 'Charge, refund and dispute rows that matched' })
  matched: number;

  @ApiProperty({ type: [MismatchedItemDto] })
  mismatched: MismatchedItemDto[];

  @ApiProperty({
    type: [UnknownItemDto],
    description: 'Charge, refund and dispute rows no Stripe purchase was paid with',
  })
  unknown: UnknownItemDto[];

  @ApiProperty({
    type: [MissingItemDto],
    description: 'Stripe purchases paid within the charge rows’ time span that no row names',
  })
  missing: MissingItemDto[];

  @ApiProperty({ example: 'finance-admin' })
  createdBy: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-04T08:00:00.000Z' })
  createdAt: string;
}

export class ReconciliationListResponseDto extends PageResponseDto(ReconciliationResponseDto) {}
