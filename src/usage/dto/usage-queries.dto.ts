import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn } from 'class-validator';

import { SCOPE_KINDS, type ScopeKind } from '../../common/validation/budget-scopes.js';
import { IsInstant } from '../../common/validation/dates.js';
import { ApiIntegerOptional, QueryInteger } from '../../common/validation/integers.js';
import { IsOptional } from '../../common/validation/optional.js';

/** The date filters of the usage reads: records placed at their occurredAt. */
export class DateRangeQueryDto {
  @ApiPropertyOptional({
    example: '2026-11-01',
    description: 'Inclusive; YYYY-MM-DD (00:00 UTC) or an ISO-8601 date-time',
  })
  @IsOptional()
  @IsInstant()
  startDate?: string;

  @ApiPropertyOptional({
    example: '2026-11-30',
    description: 'Inclusive; a date-only value includes that whole UTC day',
  })
  @IsOptional()
  @IsInstant()
  endDate?: string;
}

/** The date filters of the usage reads, and a breakdown by budget scope (docs/budgets.md). */
export class StatsQueryDto extends DateRangeQueryDto {
  @ApiPropertyOptional({
    enum: SCOPE_KINDS,
    description:
      'Adds `byScope`: credits per id of this scope kind the records named (a record in two tags counts in both)',
  })
  @IsOptional()
  @IsIn(SCOPE_KINDS)
  groupBy?: ScopeKind;
}

export class SystemStatsQueryDto extends DateRangeQueryDto {
  @ApiIntegerOptional({
    example: 100,
    minimum: 1,
    maximum: 1000,
    default: 100,
    description: 'How many top users (by credits) `byUser` holds',
  })
  @IsOptional()
  @QueryInteger({ min: 1, max: 1000 })
  topUsers?: number;
}
