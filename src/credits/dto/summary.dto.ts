import { ApiProperty } from '@nestjs/swagger';

import { ApiInteger } from '../../common/validation/integers.js';

export class CreditSummaryDayDto {
  @ApiProperty({ example: '2026-11-21', description: 'A UTC day' })
  date: string;

  @ApiInteger({ example: 5000, description: 'Credits granted (`grant` entries)' })
  granted: number;

  @ApiInteger({
    example: 1240,
    description: 'Credits spent: debits, holds net of their releases, and overdraft',
  })
  spent: number;

  @ApiInteger({ example: 300, description: 'Credits that expired unused' })
  expired: number;

  @ApiInteger({ example: 0, description: 'Credits removed by voids' })
  voided: number;
}

export class CreditSummaryResponseDto {
  @ApiInteger({ example: 182000, description: 'Credits available now, all users (holds are out)' })
  available: number;

  @ApiInteger({ example: 1200, description: 'Credits held by active streaming sessions' })
  held: number;

  @ApiInteger({ example: 350, description: 'Credits owed by users (overdraft debt)' })
  debt: number;

  @ApiInteger({
    example: 9000,
    description: 'Of `available`, what expires within the next 7 days unless spent',
  })
  expiringWithin7Days: number;

  @ApiProperty({
    type: [CreditSummaryDayDto],
    description: 'The last 30 UTC days, oldest first, today (UTC) last; days without movements are zeros',
  })
  byDay: CreditSummaryDayDto[];
}
