import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

import { IsInstant } from '../../common/validation/dates.js';
import { NotTogetherWith } from '../../common/validation/exclusive.js';
import { OptionalOrgId, OptionalUserId } from '../../common/validation/ids.js';
import { ApiInteger, ApiIntegerOptional, QueryInteger } from '../../common/validation/integers.js';
import { IsOptional } from '../../common/validation/optional.js';

export const RUNWAY_DEFAULT_DAYS = 14;
export const RUNWAY_MAX_DAYS = 90;

export class RunwayQueryDto {
  @OptionalUserId('A user’s account (default: the caller’s own; others need supervisor; not with orgId)')
  @NotTogetherWith('orgId')
  userId?: string;

  @OptionalOrgId('An organisation’s account (its readers, staff; not with userId)')
  orgId?: string;

  @ApiIntegerOptional({
    example: 14,
    minimum: 1,
    maximum: RUNWAY_MAX_DAYS,
    default: RUNWAY_DEFAULT_DAYS,
    description: 'The burn is the mean per day of the metered usage of this many days before asOf',
  })
  @IsOptional()
  @QueryInteger({ min: 1, max: RUNWAY_MAX_DAYS })
  days?: number;

  @ApiPropertyOptional({
    example: '2026-11-20T12:00:00Z',
    description:
      'Project from this past instant (default: now), reading only what was written before it: ' +
      'the same ledger and the same asOf give the same answer',
  })
  @IsOptional()
  @IsInstant()
  asOf?: string;
}

export class RunwayBasisDto {
  @ApiInteger({ example: 14, description: 'The days the burn is the mean of' })
  days: number;

  @ApiInteger({
    example: 312,
    description: 'Usage records and settled streaming sessions whose usage or corrections fall in those days',
  })
  records: number;
}

export class RunwayResponseDto {
  @ApiProperty({
    example: '71.4286',
    description:
      'Credits per day: the metered usage net of corrections over `basis.days`, divided by them, as a decimal ' +
      'string rounded half up to four places (the projection uses the exact quotient). Grants, purchases, ' +
      'transfers and expiries are not burn; "0.0000" when the window used nothing (or gave back more than it used).',
  })
  burnPerDay: string;

  @ApiInteger({ example: 1000, description: 'Credits available at asOf (unexpired lots; held credits excluded)' })
  balance: number;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    example: '2026-12-04T08:00:00.000Z',
    description:
      'When the balance reaches 0 at that burn, counting lots expiring before they are spent, plan grants and ' +
      'auto-recharge still to come; its UTC date is the run-out day. Null when there is no burn or the balance ' +
      'lasts beyond 366 days.',
  })
  runsOutAt: string | null;

  @ApiProperty({
    enum: ['burn', 'expiry', null],
    nullable: true,
    example: 'burn',
    description: '`burn`: spent to 0; `expiry`: an expiry emptied the balance first; null with runsOutAt null',
  })
  cause: 'burn' | 'expiry' | null;

  @ApiInteger({
    example: 0,
    description:
      'Credits of the balance that expire before the burn spends them (before runsOutAt, or within 366 days; ' +
      'whole credits, rounded down)',
  })
  expiringBeforeUse: number;

  @ApiProperty({ type: RunwayBasisDto })
  basis: RunwayBasisDto;
}
